"""``alertcommons user …``: console accounts, straight into the database.

``add`` makes an account (the first admin, before anyone can sign in); ``disable``,
``enable``, ``end-sessions``, ``reset-password`` and ``roles`` manage one by username, with
the same rules and audit records as the API and the console (``hub/accounts.py``). A password
is asked for (twice, hidden) or read from standard input with ``--password-stdin``; it is
never an argument, so it never lands in shell history or process lists.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from alertcommons.auth.passwords import WeakPassword, check_strength, hash_password
from alertcommons.commands.setup import (
    CLI_ACTOR,
    data_dir_option,
    database_url_option,
    existing_hub,
    write_existing,
)
from alertcommons.errors import AlertCommonsError
from alertcommons.hub import accounts
from alertcommons.store import audit, orgs, users


@click.group("user")
def user_group() -> None:
    """Console accounts."""


@user_group.command("add")
@click.argument("username")
@click.option(
    "--org", "org_id", required=True, help="The organization's id (operator: 'operator')."
)
@click.option("--name", "display_name", help="Name shown in the console [default: USERNAME].")
@click.option(
    "--roles",
    default="drafter",
    show_default=True,
    help="Comma-separated: drafter, approver, admin (operator only), viewer.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@database_url_option
def add_user(
    username: str,
    org_id: str,
    display_name: str | None,
    roles: str,
    password_stdin: bool,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Create a console account for an organization."""
    wanted = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = sorted(set(wanted) - set(users.ROLES))
    if not wanted or unknown:
        raise AlertCommonsError(f"roles are {', '.join(users.ROLES)}; not {', '.join(unknown)}")
    settings = existing_hub(data_dir, database_url)  # before asking for a password
    hashed = hash_password(_read_password(password_stdin))

    def create(connection: Any) -> str:
        organization = orgs.get_org(connection, org_id)
        if organization is None:
            raise AlertCommonsError(f"no organization '{org_id}'")
        if "admin" in wanted and organization.kind != "operator":
            raise AlertCommonsError("only an operator organization's accounts can be admins")
        user_id = users.create_user(
            connection,
            organization_id=org_id,
            username=username,
            display_name=display_name or username,
            password_hash=hashed,
            roles=wanted,
        )
        audit.append(
            connection,
            actor=CLI_ACTOR,
            action="user.create",
            subject=user_id,
            detail={"organization_id": org_id, "username": username, "roles": wanted},
        )
        return user_id

    try:
        user_id = write_existing(settings, create)
    except IntegrityError:
        raise AlertCommonsError(f"the username '{username}' is taken") from None
    click.echo(f"account {username} ({', '.join(wanted)}) created for {org_id}: {user_id}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise AlertCommonsError(str(exc)) from None
    return password


def _on_account(
    username: str,
    data_dir: Path | None,
    database_url: str | None,
    change: Callable[[Connection, Any], str],
) -> None:
    """Find the account by username and apply one change in one audited transaction."""
    settings = existing_hub(data_dir, database_url)
    message = write_existing(settings, lambda c: change(c, accounts.find_by_username(c, username)))
    click.echo(message)


@user_group.command("disable")
@click.argument("username")
@data_dir_option
@database_url_option
def disable_user(username: str, data_dir: Path | None, database_url: str | None) -> None:
    """Disable an account and end its sessions."""

    def change(connection: Connection, row: Any) -> str:
        accounts.update(connection, CLI_ACTOR, None, row.id, active=False)
        return f"account {username} disabled; its sessions are ended"

    _on_account(username, data_dir, database_url, change)


@user_group.command("enable")
@click.argument("username")
@data_dir_option
@database_url_option
def enable_user(username: str, data_dir: Path | None, database_url: str | None) -> None:
    """Enable a disabled account."""

    def change(connection: Connection, row: Any) -> str:
        accounts.update(connection, CLI_ACTOR, None, row.id, active=True)
        return f"account {username} enabled"

    _on_account(username, data_dir, database_url, change)


@user_group.command("end-sessions")
@click.argument("username")
@data_dir_option
@database_url_option
def end_user_sessions(username: str, data_dir: Path | None, database_url: str | None) -> None:
    """Sign an account out everywhere."""

    def change(connection: Connection, row: Any) -> str:
        ended = accounts.end_sessions(connection, CLI_ACTOR, None, row.id)
        return f"account {username}: {ended} session(s) ended"

    _on_account(username, data_dir, database_url, change)


@user_group.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@database_url_option
def reset_user_password(
    username: str, password_stdin: bool, data_dir: Path | None, database_url: str | None
) -> None:
    """Set a new password; lifts a lock-out and ends every session of the account."""
    existing_hub(data_dir, database_url)  # before asking for a password
    hashed = hash_password(_read_password(password_stdin))

    def change(connection: Connection, row: Any) -> str:
        ended = accounts.reset_password(connection, CLI_ACTOR, None, row.id, hashed)
        return f"account {username}: password reset, {ended} session(s) ended"

    _on_account(username, data_dir, database_url, change)


@user_group.command("roles")
@click.argument("username")
@click.argument("roles")
@data_dir_option
@database_url_option
def set_user_roles(
    username: str, roles: str, data_dir: Path | None, database_url: str | None
) -> None:
    """Replace an account's roles (comma-separated: drafter, approver, admin, viewer)."""
    wanted = [role.strip() for role in roles.split(",") if role.strip()]

    def change(connection: Connection, row: Any) -> str:
        updated = accounts.update(connection, CLI_ACTOR, None, row.id, roles=wanted)
        return f"account {username}: roles {updated.roles.replace(',', ', ')}"

    _on_account(username, data_dir, database_url, change)
