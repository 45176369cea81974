"""Options and checks shared by the commands that open the hub's database.

A command refuses what it cannot use before it touches the disk: an unsupported database URL,
an invalid setting, or — for commands that work on an existing hub (``audit verify``,
``user …``) — a data directory or database that ``init``/``serve`` never set up. A refusal is
one line on standard error and exit status 2 (the status click gives a usage error), so a
typo in a path never leaves an empty database behind to puzzle the next reader.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from sqlalchemy import Connection

from alertcommons.errors import AlertCommonsError
from alertcommons.hub.storage import store_for
from alertcommons.settings import Settings
from alertcommons.store.engine import Store, check_url

T = TypeVar("T")

# The audit actor of what the command line does on the database directly, as its operator.
CLI_ACTOR = "cli"

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the embedded database and hub key live [env ALERTCOMMONS_DATA_DIR].",
)
database_url_option = click.option(
    "--database-url",
    help="PostgreSQL URL instead of the embedded SQLite [env ALERTCOMMONS_DATABASE_URL].",
)


class Refused(click.ClickException):
    """What a command will not do, said in one line; exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def settings_from(**flags: Any) -> Settings:
    """Settings from flags and the environment, with the database URL checked."""
    if flags.get("data_dir") and flags.get("database_url"):
        raise Refused("give --data-dir or --database-url, not both")
    try:
        settings = Settings.load(**flags)
        if settings.database_url is not None:
            check_url(settings.database_url)
    except AlertCommonsError as exc:
        raise Refused(str(exc)) from None
    return settings


def existing_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The store of a hub that ``init`` or ``serve`` has set up, or a refusal.

    Checked before the store is built: building one for SQLite creates the database file.
    """
    require_data(settings)
    # Looked at through a read-only store first: a writable one makes missing key files.
    probe = store_for(settings, read_only=True)
    try:
        set_up = probe.is_set_up()
    finally:
        probe.close()
    if not set_up:
        raise Refused(f"the database {probe.safe_url} is not set up (run 'alertcommons init')")
    return store_for(settings, read_only=read_only)


def require_data(settings: Settings) -> None:
    """Refuse a missing data directory or embedded database (before asking for a password)."""
    if settings.database_url is None:
        database = settings.data_dir / "alertcommons.db"
        if not settings.data_dir.is_dir():
            raise Refused(
                f"no data directory {settings.data_dir} (set one up with "
                f"'alertcommons init --data-dir {settings.data_dir}')"
            )
        if not database.is_file():
            raise Refused(
                f"no hub database in {settings.data_dir} (set it up with "
                f"'alertcommons init --data-dir {settings.data_dir}')"
            )


def existing_hub(data_dir: Path | None, database_url: str | None) -> Settings:
    """The settings of a hub that exists, refusing a missing one before anything is asked
    for or read."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    require_data(settings)
    return settings


def write_existing(settings: Settings, write: Callable[[Connection], T]) -> T:
    """One write transaction on an existing hub's database (migrated first), then closed."""
    store = existing_store(settings)
    try:
        store.migrate()
        return store.run_write(write)
    finally:
        store.close()


def require_signing_key(settings: Settings) -> None:
    """A configured signing key must exist: the hub never makes one in its place."""
    if settings.generates_key:
        return
    for path in (settings.key_path, settings.cert_path):
        if not path.is_file():
            raise Refused(
                f"the signing key or certificate {path} does not exist (unset "
                "ALERTCOMMONS_SIGNING_KEY and ALERTCOMMONS_SIGNING_CERT to have one made)"
            )
