"""The HTTP API: one router module per resource, mounted by ``install`` onto the app that the
composition root (``alertcommons/app.py``) builds."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Route

from . import (
    alerts,
    deliveries,
    docs,
    endpoints,
    errors,
    feeds,
    jp,
    keys,
    operations,
    organizations,
    perceivable,
    places,
    sites,
    sources,
    stream,
)
from .bodylimit import BodyLimit


def install(app: FastAPI) -> None:
    """The API's error handlers and routes."""
    errors.install(app)
    app.include_router(alerts.router)
    app.include_router(perceivable.router)
    app.include_router(perceivable.audio_router)
    app.include_router(organizations.router)
    app.include_router(organizations.me_router)
    app.include_router(keys.router)
    app.include_router(endpoints.router)
    app.include_router(deliveries.router)
    app.include_router(sites.router)
    # The live stream is a bare ASGI app (see api/stream.py), outside the OpenAPI schema.
    app.router.routes.append(
        Route(stream.STREAM_PATH, stream.StreamApp(), methods=["GET"], include_in_schema=False)
    )
    app.include_router(sources.router)  # before feeds: /feeds/sources is not an Atom feed
    app.include_router(feeds.router)
    app.include_router(places.router)
    app.include_router(jp.router)
    app.include_router(operations.router)
    app.include_router(docs.router)  # /docs from this hub's own files (create_app drops FastAPI's)


def limit_bodies(app: FastAPI, max_bytes: int) -> None:
    """Refuse request bodies over ``max_bytes`` before any handler reads them."""
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
