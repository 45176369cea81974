"""``create_app(settings)``: the hub as an ASGI application. Nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from alertcommons import __version__
from alertcommons.cap.validate import cap12_schema
from alertcommons.delivery.channels import builtin_channels
from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings
from alertcommons.delivery.outbox import DeliveryOutbox
from alertcommons.hub import signer
from alertcommons.hub.publish import Publisher
from alertcommons.hub.services import PrincipalCache, Services
from alertcommons.jp.codes import registry
from alertcommons.settings import Settings
from alertcommons.store.engine import Store

from . import alerts, deliveries, endpoints, errors, keys, organizations
from .bodylimit import BodyLimit


def warm_up() -> None:
    """Load the reference data the first request would otherwise pay for."""
    cap12_schema()
    registry()


def build_services(settings: Settings) -> Services:
    warm_up()
    store = Store(settings.store_url)
    store.open()
    try:
        key = signer.load_or_create(
            settings.key_path,
            settings.cert_path,
            create=settings.generates_key,
            name=settings.hub_name,
        )
    except Exception:
        store.close()
        raise
    outbox = DeliveryOutbox()
    publisher = Publisher(store, key, outbox=outbox, max_bytes=settings.max_body_bytes)
    dispatcher = Dispatcher(
        store, builtin_channels(), DispatchSettings(lease_seconds=settings.delivery_lease_seconds)
    )
    publisher.listeners.append(lambda published: dispatcher.wake())
    dispatcher.on_endpoint_disabled.append(lambda endpoint_id: outbox.invalidate())
    return Services(
        settings=settings,
        store=store,
        key=key,
        publisher=publisher,
        outbox=outbox,
        dispatcher=dispatcher,
        principals=PrincipalCache(),
    )


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        await services.dispatcher.start()
        try:
            yield
        finally:
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

    @app.get("/healthz", tags=["operations"], summary="Liveness and the store in use")
    async def health() -> dict[str, Any]:
        services: Services = app.state.services
        return {"status": "ok", "version": __version__, "database": services.store.dialect}

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
