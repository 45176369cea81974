"""``alertcommons backup FILE`` and ``restore FILE``: the embedded SQLite database."""

from __future__ import annotations

from pathlib import Path

import click

from alertcommons.commands.setup import Refused, data_dir_option, require_data, settings_from
from alertcommons.errors import AlertCommonsError
from alertcommons.settings import Settings
from alertcommons.store import backup as backups

_POSTGRES = (
    "backup and restore copy the embedded SQLite database; back up PostgreSQL with "
    "pg_dump (e.g. pg_dump --format=custom --file=FILE URL) and restore with pg_restore"
)
_KEYS = (
    "not in it: the key files ({audit}, {secrets}, the signing key if configured as a "
    "file) — keep copies of them apart from the database backups"
)

database_url_option = click.option(
    "--database-url", help="Refused: PostgreSQL is backed up with pg_dump."
)


def _sqlite_settings(data_dir: Path | None, database_url: str | None) -> Settings:
    if database_url is not None:
        raise Refused(_POSTGRES)
    settings = settings_from(data_dir=data_dir)
    if settings.database_url is not None:  # from ALERTCOMMONS_DATABASE_URL
        raise Refused(_POSTGRES)
    return settings


def _keys_note(settings: Settings) -> str:
    return _KEYS.format(
        audit=settings.audit_key_file or settings.data_dir / "audit-key",
        secrets=settings.secrets_key_file or settings.data_dir / "secrets-key",
    )


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@data_dir_option
@database_url_option
def backup_command(file: Path, data_dir: Path | None, database_url: str | None) -> None:
    """Copy the embedded database to FILE, consistent while the hub runs (with its audit
    checkpoints in FILE.checkpoints)."""
    settings = _sqlite_settings(data_dir, database_url)
    require_data(settings)
    try:
        copied = backups.backup(settings.data_dir, file)
    except (AlertCommonsError, OSError) as exc:
        raise Refused(str(exc)) from None
    click.echo(
        f"backed up {copied.alerts} alerts and {copied.audit_records} audit records to {file}"
    )
    if copied.checkpoints is not None:
        click.echo(f"  audit checkpoints: {copied.checkpoints}")
    click.echo(f"  {_keys_note(settings)}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@data_dir_option
@database_url_option
def restore_command(file: Path, data_dir: Path | None, database_url: str | None) -> None:
    """Make the backup FILE the embedded database of the data directory. Stop the hub and
    its dispatch workers first."""
    settings = _sqlite_settings(data_dir, database_url)
    try:
        copied = backups.restore(file, settings.data_dir)
    except (AlertCommonsError, OSError) as exc:
        raise Refused(str(exc)) from None
    click.echo(
        f"restored {copied.alerts} alerts and {copied.audit_records} audit records "
        f"into {copied.database}"
    )
    if copied.moved_aside is not None:
        click.echo(f"  the earlier audit checkpoints are kept in {copied.moved_aside}")
    if copied.checkpoints is None:
        click.echo("  no checkpoint file came with the backup: the hub starts a new one")
    click.echo(
        "  the key files must be the ones the backup was written with; "
        "check with 'alertcommons audit verify'"
    )
