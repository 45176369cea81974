"""Two-person approval, enforced by the hub for every way in, not only by the console.

An organization with ``two_person_approval`` on publishes and cancels only through a draft
that a second person approved in the console; its API tokens, the Japan APIs and any other
path that reaches the publisher are refused with a ``403 approval-required`` problem.
What stays direct, as in the console:

* ``Ack`` and ``Error`` messages, which warn no one;
* a national issuer's national warnings (Alert or Update): J-Alert has no approval step and
  seconds count. Their cancels wait for approval, as the console's do.
"""

from __future__ import annotations

from alertcommons.auth.principal import Principal
from alertcommons.cap import Alert
from alertcommons.hub import refusals
from alertcommons.jp import national
from alertcommons.problems import ApprovalRequired
from alertcommons.store import orgs
from alertcommons.store.engine import Store

DIRECT_TYPES = ("Ack", "Error")


def exempt(principal: Principal, alert: Alert) -> bool:
    if alert.msg_type in DIRECT_TYPES:
        return True
    national_warning = any(
        code.value_name == national.KIND_CODE for info in alert.infos for code in info.event_codes
    )
    return national_warning and principal.jurisdiction.national and alert.msg_type != "Cancel"


async def check(store: Store, principal: Principal, alert: Alert) -> None:
    """Refuse (and audit) a direct publish by an organization that requires approval."""
    if exempt(principal, alert):
        return
    required = principal.two_person_approval
    if required is None:  # not read with the token: ask the store
        row = await store.read(lambda c: orgs.get_org(c, principal.organization_id))
        required = row is not None and bool(row.two_person_approval)
    if not required:
        return
    reason = (
        f"{principal.organization_name} requires two-person approval: draft this"
        f" {(alert.msg_type or 'alert').lower()} in the console (/console) and have a second"
        " person approve it"
    )
    await refusals.record(store, principal, alert, reason)
    raise ApprovalRequired(reason)
