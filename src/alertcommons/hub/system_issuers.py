"""Issuers the hub itself speaks for: the JMA feed and the nationwide test transmission."""

from __future__ import annotations

from typing import Any

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.problems import Conflict
from alertcommons.store import orgs
from alertcommons.store.engine import Store


class SenderTaken(Conflict):
    """The sender a system issuer needs is registered to another organization."""


async def national_issuer(store: Store, org_id: str, name: str, sender: str) -> Principal:
    """A national (``*``) issuer organization, made on first use, as a caller."""

    def ensure(connection: Any) -> None:
        if orgs.get_org(connection, org_id) is None:
            holder = orgs.org_by_sender(connection, sender)
            if holder is not None:
                # Another organization already publishes as this sender: the hub will not
                # speak for it, nor take the name from it.
                raise SenderTaken(
                    f"sender '{sender}' already belongs to organization '{holder.name}'"
                    f" ({holder.id}); the hub cannot issue as '{name}' under it"
                )
            orgs.create_org(
                connection,
                name=name,
                kind="issuer",
                sender=sender,
                jurisdiction=["*"],
                org_id=org_id,
            )

    await store.write(ensure)
    return Principal(
        org_id, name, org_id, frozenset({"issuer"}), sender, Jurisdiction(frozenset({"*"}))
    )
