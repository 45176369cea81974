"""``alertcommons serve``, ``init`` and ``audit``: running the hub and checking its records."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import json
import signal
import socket
import sys
from pathlib import Path

import click
from sqlalchemy import Connection

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.passwords import hash_password
from alertcommons.auth.principal import Principal, roles_for_kind
from alertcommons.commands.setup import (
    Refused,
    data_dir_option,
    database_url_option,
    existing_store,
    require_signing_key,
    settings_from,
)
from alertcommons.delivery.outbound import LOOPBACK
from alertcommons.errors import AlertCommonsError
from alertcommons.hub import bootstrap, cluster_key, demo_credentials, eventlog
from alertcommons.hub import demo as demo_module
from alertcommons.hub.storage import store_for
from alertcommons.logs import FORMATS
from alertcommons.logs import check as check_log_format
from alertcommons.logs import configure as configure_log_output
from alertcommons.settings import Settings
from alertcommons.store import audit, orgs
from alertcommons.store.engine import Store

__all__ = ["audit_group", "data_dir_option", "database_url_option", "init", "serve"]


log_format_option = click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    help="The access and event log on standard error: plain or json lines "
    "[env ALERTCOMMONS_LOG_FORMAT, default plain].",
)


def check_logs(settings: Settings) -> None:
    try:
        check_log_format(settings.log_format)
    except ValueError as exc:
        raise Refused(f"ALERTCOMMONS_LOG_FORMAT: {exc}") from None


def with_loopback_allowed(settings: Settings) -> Settings:
    allowed = ",".join(part for part in (settings.outbound_allow, LOOPBACK) if part)
    return dataclasses.replace(settings, outbound_allow=allowed)


@click.command()
@click.option("--host", help="Address to listen on [env ALERTCOMMONS_HOST, default 127.0.0.1].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port (0: any free one) [env ALERTCOMMONS_PORT, default 8080].",
)
@data_dir_option
@database_url_option
@click.option("--demo", is_flag=True, help="Load demo issuers, receivers and alerts.")
@click.option(
    "--nats-url", help="NATS server for live events across nodes [env ALERTCOMMONS_NATS_URL]."
)
@click.option(
    "--no-dispatch",
    is_flag=True,
    help="Serve the API and pages only; `alertcommons dispatch` workers send deliveries.",
)
@log_format_option
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    demo: bool,
    nats_url: str | None,
    no_dispatch: bool,
    log_format: str | None,
) -> None:
    """Start the hub."""
    import uvicorn

    from alertcommons.api.server import HubServer, guarded_protocol
    from alertcommons.app import create_app

    settings = settings_from(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        nats_url=nats_url,
        dispatch=False if no_dispatch else None,
        log_format=log_format,
    )
    check_logs(settings)
    try:
        settings.check_public_url()
    except AlertCommonsError as exc:
        raise Refused(str(exc)) from None
    # The port first: a busy port is said before any banner or link, and before the disk is
    # touched. The bound socket is handed to uvicorn, so nothing can take it in between.
    require_signing_key(settings)
    listener = _bind(settings.host, settings.port)
    port = listener.getsockname()[1]
    settings = dataclasses.replace(settings, port=port)
    if demo:  # the documentation's receivers run on this machine
        settings = with_loopback_allowed(settings)
    credentials = (
        demo_credentials.load_or_create(
            settings.data_dir,
            [org.id for org in demo_module.DEMO_ORGS],
            list(demo_module.DEMO_USERS),
        )
        if demo
        else None
    )
    demo_admin = credentials.admin if credentials and not settings.admin_token else None

    def set_up(connection: Connection) -> bootstrap.InitResult:
        result = bootstrap.initialize(
            connection,
            admin_token=settings.admin_token,
            new_token=False,
            first_token=demo_admin is None,
        )
        if demo_admin is not None:
            demo_module.ensure_admin(connection, demo_admin)
        return result

    store = store_for(settings)
    try:
        store.migrate()
        result = store.run_write(set_up)
        _cluster_key(store, settings)  # a node with another key refuses here, in one line
    finally:
        store.close()
    host_part = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host_part}:{port}"
    click.echo(f"Alert Commons hub on {base}  (database: {store.safe_url})")
    if result.token:
        click.echo(f"  admin token (shown once): {result.token}")
    if demo_admin is not None:
        click.echo(f"  admin token (demo, the same at every start): {demo_admin}")
    if credentials is not None:
        _load_demo(settings, credentials)
    click.echo(f"  API docs:        {base}/docs")
    click.echo(f"  alerts in force: {base}/api/v1/alerts?active=true")
    click.echo(f"  signing key:     {base}/api/v1/keys")
    sys.stdout.flush()
    configure_log_output(settings.log_format)  # nothing is refused after this point
    app = create_app(settings, freeze_heap=True)  # one hub per process
    config = uvicorn.Config(
        app,
        log_level="warning",
        # The hub writes its own access line (api/accesslog.py). uvicorn's, below warning, was
        # never shown, yet its arguments (the client, the path) were worked out per request.
        access_log=False,
        http=guarded_protocol(settings.header_timeout_seconds, settings.send_timeout_seconds),
        limit_concurrency=settings.max_connections,
        # Live streams are closed at once on shutdown (see HubServer); other requests get a
        # few seconds to finish.
        timeout_graceful_shutdown=3,
        backlog=4096,  # bursts of reconnecting stream clients after an outage
    )
    HubServer(config).run(sockets=[listener])


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound (not yet listening) to the address, or a one-line refusal."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot listen on {host}:{port}: {exc}") from None
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise Refused(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def _load_demo(settings: Settings, credentials: demo_credentials.DemoCredentials) -> None:
    from alertcommons.app import build_services

    async def seed() -> None:
        services = build_services(settings)
        try:
            await services.store.write(lambda c: demo_module.ensure_orgs(c, credentials.tokens))
            hashes = {name: hash_password(pw) for name, pw in credentials.passwords.items()}
            await services.store.write(lambda c: demo_module.ensure_users(c, hashes))
            demo_places = demo_module.parse_demo_places()
            await services.store.write(lambda c: demo_module.ensure_places(c, demo_places))
            if not await services.store.read(demo_module.has_alerts):
                for org_id, alert in demo_module.demo_alerts():
                    row = await services.store.read(lambda c, o=org_id: orgs.get_org(c, o))  # type: ignore[misc]
                    principal = Principal(
                        organization_id=row.id,
                        organization_name=row.name,
                        token_id="demo",
                        roles=frozenset(roles_for_kind(row.kind)),
                        sender=row.sender,
                        jurisdiction=Jurisdiction(frozenset(json.loads(row.jurisdiction))),
                    )
                    await services.publisher.publish(principal, alert)
        finally:
            services.store.close()

    asyncio.run(seed())
    kept = f"kept in {credentials.path}" if credentials.path else "kept"
    click.echo(f"  demo organizations and their tokens ({kept}; the same at every start):")
    for org in demo_module.DEMO_ORGS:
        click.echo(f"    {org.name:<20} {org.kind:<8} {credentials.tokens[org.id]}")
    click.echo("  console accounts (/console; the same passwords at every start):")
    for name, (_, display_name, roles) in demo_module.DEMO_USERS.items():
        click.echo(
            f"    {name:<16} {credentials.passwords[name]:<18} {display_name} ({', '.join(roles)})"
        )


@click.command()
@data_dir_option
@database_url_option
@click.option("--new-token", is_flag=True, help="Issue another admin token even if one exists.")
def init(data_dir: Path | None, database_url: str | None, new_token: bool) -> None:
    """Do serve's set-up without serving: the database, the audit and secrets keys, the
    signing key and certificate, and the first admin token (or ALERTCOMMONS_ADMIN_TOKEN).
    Say what was made; safe to run again."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    require_signing_key(settings)
    things = _set_up_files(settings)
    before = {path for path, _ in things if path.exists()}
    store = store_for(settings)
    try:
        store.migrate()
        result = store.run_write(
            lambda c: bootstrap.initialize(c, admin_token=settings.admin_token, new_token=new_token)
        )
        _cluster_key(store, settings)
    finally:
        store.close()
    made = [(path, what) for path, what in things if path not in before and path.exists()]
    if settings.database_url is not None:
        click.echo(f"database {store.safe_url}: schema up to date")
    for path, what in made:
        click.echo(f"made {path}  ({what})")
    if not made:
        click.echo(f"the files in {settings.data_dir} were already there; nothing made")
    if result.token:
        click.echo(f"admin token (shown once, store it safely): {result.token}")
    elif settings.admin_token:
        click.echo("admin token from ALERTCOMMONS_ADMIN_TOKEN is registered")
    else:
        click.echo("admin token: already set up; use --new-token to issue another")


def _cluster_key(store: Store, settings: Settings) -> None:
    try:
        cluster_key.resolve(store, settings)
    except AlertCommonsError as exc:
        raise Refused(str(exc)) from None


def _set_up_files(settings: Settings) -> list[tuple[Path, str]]:
    """The files set-up makes when they are missing, and what each one is."""
    things: list[tuple[Path, str]] = []
    if settings.database_url is None:
        things.append((settings.data_dir / "alertcommons.db", "the embedded SQLite database"))
    if settings.audit_key_file is None:
        things.append((settings.data_dir / "audit-key", "audit key: keys the audit chain"))
    if settings.secrets_key_file is None:
        things.append((settings.data_dir / "secrets-key", "secrets key: seals endpoint settings"))
    if settings.generates_key:
        things.append((settings.key_path, "signing key: the hub signs alerts with it"))
        things.append((settings.cert_path, "its certificate: receivers check signatures with it"))
    return things


@click.group("audit")
def audit_group() -> None:
    """Check the audit log."""


@audit_group.command("verify")
@data_dir_option
@database_url_option
def audit_verify(data_dir: Path | None, database_url: str | None) -> None:
    """Check the whole keyed chain and the signed checkpoints outside the database; name
    the first broken record. Exit 0 iff intact."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    store = existing_store(settings, read_only=True)
    try:
        report = store.run_read(audit.verify_chain)
    finally:
        store.close()
    if report.intact:
        click.echo(f"audit log intact: {report.records} records")
        for note in report.notes:
            click.echo(f"  {note}")
        return
    where = f" at record {report.broken_at}" if report.broken_at is not None else ""
    click.echo(f"audit log BROKEN{where}: {report.reason}")
    sys.exit(1)


@click.command("dispatch")
@data_dir_option
@database_url_option
@click.option(
    "--nats-url",
    help="The cluster's NATS server: woken at once by a publish on any node instead of "
    "finding it by polling [env ALERTCOMMONS_NATS_URL].",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(0.01, 3600),
    default=0.25,
    show_default=True,
    help="How often to look for due deliveries when nothing wakes the worker (retries, "
    "a publish while NATS is down or not configured).",
)
@log_format_option
def dispatch_command(
    data_dir: Path | None,
    database_url: str | None,
    nats_url: str | None,
    poll_seconds: float,
    log_format: str | None,
) -> None:
    """Run a dispatch worker: claim due deliveries and send them, beside hub nodes started
    with --no-dispatch (any number of workers, on any machine that reaches the database)."""
    settings = settings_from(
        data_dir=data_dir, database_url=database_url, nats_url=nats_url, log_format=log_format
    )
    check_logs(settings)
    configure_log_output(settings.log_format)
    asyncio.run(_dispatch(settings, poll_seconds))


async def _dispatch(settings: Settings, poll_seconds: float) -> None:
    from alertcommons.delivery.channels import builtin_channels
    from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings
    from alertcommons.hub.wakeup import PublishWake

    channels = builtin_channels(settings.outbound_policy)
    store = store_for(settings)
    store.open()
    # It looks for due deliveries four times a second by default (a claim that finds nothing
    # is one indexed query); with NATS, a publish on any node wakes it at once (hub/wakeup.py).
    dispatcher = Dispatcher(
        store,
        channels,
        DispatchSettings(lease_seconds=settings.delivery_lease_seconds, poll_seconds=poll_seconds),
    )
    woken = (
        PublishWake(settings.nats_url, settings.cluster_name, dispatcher.wake)
        if settings.nats_url
        else None
    )
    summary = eventlog.DeliverySummary(settings.log_summary_seconds)
    dispatcher.on_outcome.append(summary.settled)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await dispatcher.start(sole_sender=False)
    await summary.start()
    if woken is not None:
        await woken.start()
    click.echo(f"dispatch worker on {store.safe_url}")
    eventlog.node("start", "dispatch", database=store.dialect)
    try:
        await stop.wait()
    finally:
        if woken is not None:
            await woken.stop()
        await dispatcher.stop()
        await summary.stop()
        eventlog.node("stop", "dispatch")
        store.close()
