"""``alertcommons serve``, ``init`` and ``audit``: running the hub and checking its records."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import click

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.passwords import hash_password
from alertcommons.auth.principal import Principal, roles_for_kind
from alertcommons.delivery.outbound import LOOPBACK
from alertcommons.hub import bootstrap, demo
from alertcommons.hub.storage import store_for
from alertcommons.settings import Settings
from alertcommons.store import audit, orgs

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the embedded database and hub key live [env ALERTCOMMONS_DATA_DIR].",
)
database_url_option = click.option(
    "--database-url",
    help="PostgreSQL URL instead of the embedded SQLite [env ALERTCOMMONS_DATABASE_URL].",
)


def settings_from(**flags: Any) -> Settings:
    if flags.get("data_dir") and flags.get("database_url"):
        raise click.UsageError("give --data-dir or --database-url, not both")
    return Settings.load(**flags)


def with_loopback_allowed(settings: Settings) -> Settings:
    allowed = ",".join(part for part in (settings.outbound_allow, LOOPBACK) if part)
    return dataclasses.replace(settings, outbound_allow=allowed)


@click.command()
@click.option("--host", help="Address to listen on [env ALERTCOMMONS_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env ALERTCOMMONS_PORT, default 8080].")
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
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    demo: bool,
    nats_url: str | None,
    no_dispatch: bool,
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
    )
    settings.check_public_url()
    if demo:  # the documentation's receivers run on this machine
        settings = with_loopback_allowed(settings)
    store = store_for(settings)
    store.migrate()
    result = store.run_write(
        lambda c: bootstrap.initialize(
            c, admin_token=settings.admin_token, new_token=demo and not settings.admin_token
        )
    )
    store.close()
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"Alert Commons hub on {base}  (database: {store.safe_url})")
    if result.token:
        click.echo(f"  admin token (shown once): {result.token}")
    if demo:
        _load_demo(settings)
    click.echo(f"  API docs:        {base}/docs")
    click.echo(f"  alerts in force: {base}/api/v1/alerts?active=true")
    click.echo(f"  signing key:     {base}/api/v1/keys")
    sys.stdout.flush()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        http=guarded_protocol(settings.header_timeout_seconds, settings.send_timeout_seconds),
        limit_concurrency=settings.max_connections,
        # Live streams are closed at once on shutdown (see HubServer); other requests get a
        # few seconds to finish.
        timeout_graceful_shutdown=3,
        backlog=4096,  # bursts of reconnecting stream clients after an outage
    )
    HubServer(config).run()


def _load_demo(settings: Settings) -> None:
    from alertcommons.app import build_services

    async def seed() -> dict[str, str]:
        services = build_services(settings)
        try:
            secrets = await services.store.write(demo.ensure_orgs)
            passwords = {name: token_urlsafe(12) for name in demo.DEMO_USERS}
            hashes = {name: hash_password(password) for name, password in passwords.items()}
            await services.store.write(lambda c: demo.ensure_users(c, hashes))
            secrets.update({f"user:{name}": password for name, password in passwords.items()})
            if not await services.store.read(demo.has_alerts):
                for org_id, alert in demo.demo_alerts():
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
            return secrets
        finally:
            services.store.close()

    secrets = asyncio.run(seed())
    click.echo("  demo organizations and their tokens (new at every start):")
    for org in demo.DEMO_ORGS:
        click.echo(f"    {org.name:<20} {org.kind:<8} {secrets[org.id]}")
    click.echo("  console accounts (/console; passwords new at every start):")
    for name, (_, display_name, roles) in demo.DEMO_USERS.items():
        click.echo(
            f"    {name:<16} {secrets['user:' + name]:<18} {display_name} ({', '.join(roles)})"
        )


@click.command()
@data_dir_option
@database_url_option
@click.option("--new-token", is_flag=True, help="Issue another admin token even if one exists.")
def init(data_dir: Path | None, database_url: str | None, new_token: bool) -> None:
    """Set up the database and create the first admin token (or ALERTCOMMONS_ADMIN_TOKEN)."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    store = store_for(settings)
    store.migrate()
    try:
        result = store.run_write(
            lambda c: bootstrap.initialize(c, admin_token=settings.admin_token, new_token=new_token)
        )
    finally:
        store.close()
    if result.token:
        click.echo(f"admin token (shown once, store it safely): {result.token}")
    elif settings.admin_token:
        click.echo("admin token from ALERTCOMMONS_ADMIN_TOKEN is registered")
    else:
        click.echo("already set up; use --new-token to issue another admin token")


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
    if settings.database_url is None and not (settings.data_dir / "alertcommons.db").exists():
        raise click.ClickException(f"no hub database in {settings.data_dir}")
    store = store_for(settings, read_only=True)
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
def dispatch_command(data_dir: Path | None, database_url: str | None) -> None:
    """Run a dispatch worker: claim due deliveries and send them, beside hub nodes started
    with --no-dispatch (any number of workers, on any machine that reaches the database)."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    asyncio.run(_dispatch(settings))


async def _dispatch(settings: Settings) -> None:
    from alertcommons.delivery.channels import builtin_channels
    from alertcommons.delivery.dispatcher import Dispatcher, DispatchSettings

    channels = builtin_channels(settings.outbound_policy)
    store = store_for(settings)
    store.open()
    # Not woken by publishes in another process: it looks for due deliveries four times a
    # second instead (a claim that finds nothing is one indexed query).
    dispatcher = Dispatcher(
        store,
        channels,
        DispatchSettings(lease_seconds=settings.delivery_lease_seconds, poll_seconds=0.25),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await dispatcher.start(sole_sender=False)
    click.echo(f"dispatch worker on {store.safe_url}")
    try:
        await stop.wait()
    finally:
        await dispatcher.stop()
        store.close()
