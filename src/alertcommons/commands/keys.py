"""``alertcommons keys rotate``: a new signing key for every node of the cluster."""

from __future__ import annotations

from pathlib import Path

import click

from alertcommons.commands.setup import (
    Refused,
    data_dir_option,
    database_url_option,
    existing_store,
    settings_from,
)
from alertcommons.errors import AlertCommonsError
from alertcommons.hub import cluster_key


@click.group("keys")
def keys_group() -> None:
    """The cluster's signing key."""


@keys_group.command("rotate")
@data_dir_option
@database_url_option
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Make this PEM private key current instead of a new one (with --cert).",
)
@click.option(
    "--cert",
    "cert_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The certificate of --key (PEM).",
)
def rotate(
    data_dir: Path | None, database_url: str | None, key_file: Path | None, cert_file: Path | None
) -> None:
    """Make a new signing key and certificate the cluster's current one (audited). Every
    node signs with it from its next start; alerts signed before still verify."""
    if (key_file is None) != (cert_file is None):
        raise Refused("give --key and --cert together, or neither for a new key")
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    store = existing_store(settings)
    try:
        store.migrate()  # checks the audit and secrets key files against the database
        rotation = cluster_key.rotate(
            store,
            settings,
            key_file.read_bytes() if key_file else None,
            cert_file.read_bytes() if cert_file else None,
        )
    except AlertCommonsError as exc:
        raise Refused(str(exc)) from None
    finally:
        store.close()
    click.echo(
        f"the cluster's signing key is now {rotation.current} (was {rotation.previous}); "
        "restart every hub node to sign with it"
    )
