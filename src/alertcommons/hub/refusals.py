"""The audit record of a refused publish, written before the refusal goes out, whichever
check refused it (the publisher's own, or the two-person approval rule)."""

from __future__ import annotations

from alertcommons.auth.principal import Principal
from alertcommons.cap import Alert
from alertcommons.store import audit
from alertcommons.store.engine import Store


async def record(store: Store, principal: Principal, alert: Alert, reason: str) -> None:
    await store.write(
        lambda c: audit.append(
            c,
            actor=principal.actor,
            action="alert.refused",
            subject=alert.identifier,
            detail={"sender": alert.sender, "msgType": alert.msg_type, "reason": reason},
        )
    )
