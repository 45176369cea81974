"""``create_app(settings)``: the hub as an ASGI application. Nothing happens at import."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from alertcommons import __version__
from alertcommons.cap import from_json
from alertcommons.cap.validate import cap12_schema
from alertcommons.delivery.channels import builtin_channels
from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings
from alertcommons.delivery.matching import facts_of
from alertcommons.delivery.outbox import DeliveryOutbox
from alertcommons.delivery.stream import Broadcaster
from alertcommons.geo.boundaries import boundaries
from alertcommons.hub import signer
from alertcommons.hub.admission import Admission
from alertcommons.hub.cap_ingest import CapIngest
from alertcommons.hub.jma_ingest import JMAIngest
from alertcommons.hub.publish import Published, Publisher
from alertcommons.hub.records import alert_records
from alertcommons.hub.rendered import RenderedCache
from alertcommons.hub.services import PrincipalCache, Services
from alertcommons.hub.storage import store_for
from alertcommons.jp.codes import registry
from alertcommons.settings import Settings
from alertcommons.store import alerts as alert_queries
from alertcommons.store import keys as hub_keys
from alertcommons.store.engine import Store
from alertcommons.web import console, public
from alertcommons.web.render import STATIC

from . import (
    alerts,
    deliveries,
    endpoints,
    errors,
    feeds,
    jp,
    keys,
    organizations,
    sources,
    stream,
)
from .bodylimit import BodyLimit


def warm_up() -> None:
    """Load the reference data the first request would otherwise pay for."""
    cap12_schema()
    registry()
    # The outlines take a second or two to decode: on a thread, so starting is not slowed.
    threading.Thread(target=boundaries, name="load-boundaries", daemon=True).start()


def build_services(settings: Settings) -> Services:
    warm_up()
    channels = builtin_channels(settings.outbound_policy)  # a bad allow-list fails first
    store = store_for(settings)
    store.open()
    try:
        key = signer.load_or_create(
            settings.key_path,
            settings.cert_path,
            create=settings.generates_key,
            name=settings.hub_name,
        )
        store.run_write(
            lambda c: hub_keys.remember(c, key.key_id, key.cert_pem.decode(), key.signing.algorithm)
        )
    except Exception:
        store.close()
        raise
    outbox = DeliveryOutbox()
    admission = Admission(settings.max_sent_age_seconds, settings.max_future_skew_seconds)
    publisher = Publisher(
        store, key, outbox=outbox, max_bytes=settings.max_body_bytes, admission=admission
    )
    dispatcher = Dispatcher(
        store, channels, DispatchSettings(lease_seconds=settings.delivery_lease_seconds)
    )
    broadcaster = Broadcaster()
    rendered = RenderedCache()
    publisher.listeners.append(lambda published: rendered.changed())

    def wake_for(published: Published) -> None:
        # Only an alert with deliveries gives the dispatcher work: waking it for every alert
        # put an empty claim transaction on the single writer per publish.
        if published.deliveries:
            dispatcher.wake()

    publisher.listeners.append(wake_for)
    publisher.listeners.append(lambda published: _stream(store, broadcaster, published.alert_id))
    dispatcher.on_endpoint_disabled.append(lambda endpoint_id: outbox.invalidate())
    jma_feed = None
    if settings.jma_feed_url:
        jma_feed = JMAIngest.from_settings(store, publisher, settings)
    cap_sources = None
    if settings.cap_sources.strip():
        cap_sources = CapIngest.from_settings(store, publisher, settings)
    return Services(
        settings=settings,
        store=store,
        key=key,
        publisher=publisher,
        outbox=outbox,
        dispatcher=dispatcher,
        broadcaster=broadcaster,
        rendered=rendered,
        principals=PrincipalCache(),
        jma=jma_feed,
        cap_sources=cap_sources,
    )


def _stream(store: Store, broadcaster: Broadcaster, alert_id: str) -> None:
    """Hand a newly stored public alert to the live streams."""
    if not len(broadcaster):
        return

    async def feed() -> None:
        def load(connection: Any) -> tuple[Any, dict[str, Any], list[Any]] | None:
            row = alert_queries.get(connection, alert_id)
            if row is None or row.scope != "Public":
                return None
            record = alert_records(connection, [row])[0]
            earlier = alert_queries.referenced_rows(connection, [alert_id]).get(alert_id, [])
            return (
                facts_of(from_json(json.loads(row.cap_json))),
                record,
                [facts_of(from_json(json.loads(r.cap_json))) for r in earlier],
            )

        loaded = await store.read(load)
        if loaded is not None:
            broadcaster.publish(alert_id, loaded[0], loaded[1], loaded[2])

    broadcaster.keep(asyncio.ensure_future(feed()))


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        await services.dispatcher.start()
        if services.jma is not None:
            await services.jma.start()
        if services.cap_sources is not None:
            await services.cap_sources.start()
        try:
            yield
        finally:
            if services.cap_sources is not None:
                await services.cap_sources.stop()
            if services.jma is not None:
                await services.jma.stop()
            services.broadcaster.close()
            await services.dispatcher.stop()
            services.store.close()

    app = FastAPI(
        title="Alert Commons",
        version=__version__,
        summary="Publish disaster information once; reach every receiver for the area.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(alerts.router)
    app.include_router(organizations.router)
    app.include_router(organizations.me_router)
    app.include_router(keys.router)
    app.include_router(endpoints.router)
    app.include_router(deliveries.router)
    # The live stream is a bare ASGI app (see api/stream.py), outside the OpenAPI schema.
    app.router.routes.append(
        Route("/api/v1/stream", stream.StreamApp(), methods=["GET"], include_in_schema=False)
    )
    app.include_router(sources.router)  # before feeds: /feeds/sources is not an Atom feed
    app.include_router(feeds.router)
    app.include_router(jp.router)
    app.include_router(public.router)
    console.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["operations"], summary="Liveness and the store in use")
    async def health() -> dict[str, Any]:
        services: Services = app.state.services
        return {"status": "ok", "version": __version__, "database": services.store.dialect}

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
