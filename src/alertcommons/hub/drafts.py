"""Console drafts and the two-person rule: create a draft, approve (and publish) or reject it.

Each step once, with its audit record. The console (``web/console.py``) builds the alert from
the draft's form and renders; the messages here are the console's, in both languages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alertcommons.auth.sessions import ConsoleUser
from alertcommons.cap.model import Alert
from alertcommons.hub.publish import Published
from alertcommons.hub.services import Services
from alertcommons.problems import Conflict, Forbidden, NotFound, ProblemError
from alertcommons.store import audit, users

_DECIDED = "この下書きは処理済みです。 This draft was already decided."
_NOT_APPROVER = "承認の権限がありません。 You are not an approver."


async def create(
    hub: Services, user: ConsoleUser, template: str, form: dict[str, str], summary: str
) -> str:
    """A draft waiting for a second person; its id."""
    kept = {k: v for k, v in form.items() if k not in ("csrf_token", "action")}

    def apply(connection: Any) -> str:
        draft_id = users.create_draft(
            connection,
            organization_id=user.organization_id,
            created_by=user.user_id,
            template=template,
            form=kept,
            summary=summary,
        )
        audit.append(
            connection,
            actor=user.principal().actor,
            action="draft.create",
            subject=draft_id,
            detail={"template": template, "summary": summary},
        )
        return draft_id

    return await hub.store.write(apply)


async def get(hub: Services, user: ConsoleUser, draft_id: str) -> Any:
    """One of the user's organization's drafts."""
    row = await hub.store.read(lambda c: users.get_draft(c, draft_id))
    if row is None or row.organization_id != user.organization_id:
        raise NotFound("その下書きはありません。 No such draft.")
    return row


async def approve(
    hub: Services, user: ConsoleUser, draft_id: str, build: Callable[[Any], Awaitable[Alert]]
) -> Published:
    """A second person approves: the draft is claimed, rebuilt with ``build`` (and so
    re-checked now), published as approved, and marked done. A refusal reopens it."""
    row = await get(hub, user, draft_id)
    if not user.can_approve:
        raise Forbidden(_NOT_APPROVER)
    if row.created_by == user.user_id:
        raise Forbidden(
            "自分で作成した下書きは承認できません。 A second person must approve this draft."
        )
    if row.state != "pending":
        raise Conflict(_DECIDED)
    if not await hub.store.write(
        lambda c: users.decide_draft(c, draft_id, user.user_id, "approving", None)
    ):
        raise Conflict(_DECIDED)
    try:
        # rebuilt and re-checked now: a cancel of an alert no longer in force is refused
        alert = await build(row)
        # a second person approved it just now: the hub's approval rule is met
        outcome = await hub.publisher.publish(user.principal(), alert, approved=True)
    except ProblemError:
        await hub.store.write(lambda c: users.reopen_draft(c, draft_id))
        raise

    def done(connection: Any) -> None:
        users.finish_draft(connection, draft_id, user.user_id, outcome.alert_id)
        audit.append(
            connection,
            actor=user.principal().actor,
            action="draft.approve",
            subject=draft_id,
            detail={"alert_id": outcome.alert_id, "drafted_by": row.created_by},
        )

    await hub.store.write(done)
    return outcome


async def reject(hub: Services, user: ConsoleUser, draft_id: str) -> None:
    await get(hub, user, draft_id)
    if not user.can_approve:
        raise Forbidden(_NOT_APPROVER)

    def decide(connection: Any) -> bool:
        changed = users.decide_draft(connection, draft_id, user.user_id, "rejected", None)
        if changed:
            audit.append(
                connection, actor=user.principal().actor, action="draft.reject", subject=draft_id
            )
        return changed

    if not await hub.store.write(decide):
        raise Conflict(_DECIDED)
