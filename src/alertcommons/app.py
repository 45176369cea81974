"""The composition root: ``build_services(settings)`` makes everything a running hub holds,
``create_app(settings)`` mounts the HTTP API (``api/``) and the console and public pages
(``web/``) over them. It sits above both adapters, so neither imports the other.
Nothing happens at import."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from alertcommons import __version__
from alertcommons.api.accesslog import AccessLog
from alertcommons.api.app import install as install_api
from alertcommons.api.app import limit_bodies
from alertcommons.api.feedpath import FeedFastPath
from alertcommons.api.stream import ServerSendForStreams
from alertcommons.cap import from_json
from alertcommons.cap.validate import cap12_schema
from alertcommons.delivery.channels import builtin_channels
from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings
from alertcommons.delivery.matching import facts_of
from alertcommons.delivery.outbox import DeliveryOutbox
from alertcommons.delivery.stream import Broadcaster
from alertcommons.geo.boundaries import boundaries
from alertcommons.hub import cluster_key, eventlog, keys
from alertcommons.hub.admission import Admission
from alertcommons.hub.cap_ingest import CapIngest
from alertcommons.hub.jma_ingest import JMAIngest
from alertcommons.hub.livebus import LiveBus
from alertcommons.hub.metrics import Metrics
from alertcommons.hub.publish import Published, Publisher
from alertcommons.hub.rendered import RenderedCache
from alertcommons.hub.services import PrincipalCache, Services
from alertcommons.hub.storage import store_for
from alertcommons.jp.codes import registry
from alertcommons.settings import Settings
from alertcommons.store import alerts as alert_queries
from alertcommons.store.engine import Store
from alertcommons.store.records import alert_records
from alertcommons.web import console, public
from alertcommons.web.render import STATIC

_loading: threading.Thread | None = None  # the outlines being decoded (warm_up)


def warm_up() -> None:
    """Load the reference data the first request would otherwise pay for."""
    global _loading
    cap12_schema()
    registry()
    # The outlines take a second or two to decode: on a thread, so starting is not slowed.
    _loading = threading.Thread(target=boundaries, name="load-boundaries", daemon=True)
    _loading.start()


def _freeze_heap() -> None:
    """Put what the hub loaded at start (modules, schemas, the outlines: millions of objects
    that live as long as it does) out of the garbage collector's sight. A full collection
    scans every tracked object: measured at ~90 ms in the middle of a 1,000-webhook fan-out,
    the whole gap between its p50 and p99 (bench/fanout.py), and 70-80 ms pauses were the whole
    p99 of publishing at 500/s (bench/ingest.py). Frozen objects are still freed when nothing
    refers to them; only a reference cycle among them would stay, so what is garbage already
    is collected first."""
    gc.collect()
    gc.freeze()
    loading = _loading
    if loading is not None and loading.is_alive():

        def after_loading() -> None:
            loading.join()
            gc.collect()  # what is garbage by now is not frozen with the outlines
            gc.freeze()

        threading.Thread(target=after_loading, name="freeze-heap", daemon=True).start()


def build_services(settings: Settings) -> Services:
    warm_up()
    channels = builtin_channels(settings.outbound_policy)  # a bad allow-list fails first
    store = store_for(settings)
    store.open()
    try:
        # The cluster's key (serve has refused a node whose key differs before this).
        key = cluster_key.resolve(store, settings)
        keys.remember(store, key)
    except Exception:
        store.close()
        raise
    outbox = DeliveryOutbox()
    admission = Admission(settings.max_sent_age_seconds, settings.max_future_skew_seconds)
    publisher = Publisher(
        store,
        key,
        outbox=outbox,
        targets=outbox.targets,
        max_bytes=settings.max_body_bytes,
        admission=admission,
    )
    dispatcher = Dispatcher(
        store, channels, DispatchSettings(lease_seconds=settings.delivery_lease_seconds)
    )
    outbox.handoff = dispatcher.lend  # lends only while it runs, on its own loop
    publisher.not_stored.append(dispatcher.forfeit)
    dispatcher.warmers.append(outbox.matcher)  # rebuilt while idle, not in the next publish
    broadcaster = Broadcaster()
    rendered = RenderedCache()
    publisher.listeners.append(lambda published: rendered.changed())

    def wake_for(published: Published) -> None:
        # Only an alert with deliveries gives the dispatcher work: waking it for every alert
        # put an empty claim transaction on the single writer per publish. Rows the outbox
        # handed to the dispatcher in the publish's transaction are sent now, unclaimed.
        if published.deliveries and dispatcher.handed_off(published.alert_id) < (
            published.deliveries
        ):
            dispatcher.wake()

    publisher.listeners.append(wake_for)
    livebus = LiveBus(
        store,
        lambda alert_id: _stream(store, broadcaster, alert_id),
        nats_url=settings.nats_url,
        cluster=settings.cluster_name,
    )
    publisher.listeners.append(lambda published: livebus.published_here(published.alert_id))
    dispatcher.on_endpoint_disabled.append(lambda endpoint_id: outbox.invalidate())
    metrics = Metrics()
    jma_feed = None
    if settings.jma_feed_url:
        jma_feed = JMAIngest.from_settings(store, publisher, settings, metrics)
    # Always there: sources can be added through the admin API at any time.
    cap_sources = CapIngest.from_settings(store, publisher, settings, metrics)
    publisher.listeners.append(lambda published: metrics.published(published.created))
    publisher.listeners.append(eventlog.published)
    dispatcher.on_outcome.append(metrics.settled)
    return Services(
        metrics=metrics,
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
        livebus=livebus,
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
            # Whoever was sent what this updates or cancels gets it, whatever its filter.
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


class HubApp(FastAPI):
    """The hub's FastAPI app, with a cached Atom feed answered in front of all of it, the
    framework's own outer layers too (api/feedpath.py: the same bytes, X-Request-ID and
    access-log line as the route; everything else passes through). Those layers — an
    exception wrapper around each ``send``, the telemetry check, the body-limit wrapper — were
    about a sixth of a cached feed's time. FastAPI's own OpenTelemetry, if an operator turns it on,
    does not see these answers."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.feeds = FeedFastPath(super().__call__, self.state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.feeds(scope, receive, send)


def create_app(settings: Settings, *, freeze_heap: bool = False) -> FastAPI:
    """``freeze_heap``: a served hub's heap as started is frozen (see ``_freeze_heap``); not
    for tests, which start many apps in one process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        summary = eventlog.DeliverySummary(settings.log_summary_seconds)
        services.dispatcher.on_outcome.append(summary.settled)
        if settings.dispatch:  # else separate `alertcommons dispatch` workers send
            await services.dispatcher.start()
            await summary.start()
        # Other nodes may publish (a shared PostgreSQL) or announce (NATS): follow them.
        shared = services.store.dialect != "sqlite" or bool(settings.nats_url)
        if shared and services.livebus is not None:
            await services.livebus.start()
        if services.jma is not None:
            await services.jma.start()
        if services.cap_sources is not None:
            await services.cap_sources.start()
        role = "api+dispatch" if settings.dispatch else "api"
        if freeze_heap:
            _freeze_heap()
        eventlog.node("start", role, port=settings.port, database=services.store.dialect)
        try:
            yield
        finally:
            if services.cap_sources is not None:
                await services.cap_sources.stop()
            if shared and services.livebus is not None:
                await services.livebus.stop()
            if services.jma is not None:
                await services.jma.stop()
            services.broadcaster.close()
            await services.dispatcher.stop()
            await summary.stop()
            services.store.close()
            eventlog.node("stop", role, port=settings.port)

    app = HubApp(
        title="Alert Commons",
        version=__version__,
        summary="Publish disaster information once; reach every receiver for the area.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc load their scripts from a CDN: api/docs.py serves /docs
        # from this hub's own files instead.
        docs_url=None,
        redoc_url=None,
    )
    install_api(app)
    app.include_router(public.router)
    console.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["operations"], summary="Liveness and the store in use")
    async def health() -> dict[str, Any]:
        services: Services = app.state.services
        return {
            "status": "ok",
            "version": __version__,
            "database": services.store.dialect,
            "live_events": services.live_events(),
        }

    limit_bodies(app, settings.max_body_bytes)
    app.add_middleware(AccessLog)  # it sees every answer, the 413s too
    app.add_middleware(ServerSendForStreams)  # outermost: live streams' chunks skip the chain
    return app
