"""``alertcommons user add``: a console account, straight into the database.

For the first admin account (before anyone can sign in) and for operators at a terminal; the
same checks as ``POST /api/v1/organizations/{id}/users``. The password is asked for (twice,
hidden) or read from standard input with ``--password-stdin``; it is never an argument, so it
never lands in shell history or process lists.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import IntegrityError

from alertcommons.commands.hub import data_dir_option, database_url_option, settings_from
from alertcommons.errors import AlertCommonsError
from alertcommons.hub.storage import store_for
from alertcommons.store import audit, orgs, users
from alertcommons.web.passwords import WeakPassword, check_strength, hash_password


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
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise AlertCommonsError(str(exc)) from None
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    store = store_for(settings)
    store.migrate()
    hashed = hash_password(password)

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
            actor="cli",
            action="user.create",
            subject=user_id,
            detail={"organization_id": org_id, "username": username, "roles": wanted},
        )
        return user_id

    try:
        user_id = store.run_write(create)
    except IntegrityError:
        raise AlertCommonsError(f"the username '{username}' is taken") from None
    finally:
        store.close()
    click.echo(f"account {username} ({', '.join(wanted)}) created for {org_id}: {user_id}")
