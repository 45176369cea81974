"""The nationwide test transmission (全国一斉情報伝達試験): start one, and report who got it.

One operation for the API (``POST /api/v1/jp/national-tests``) and the console's admin page,
so both publish the same message as the same system issuer and write the same audit record.
"""

from __future__ import annotations

from typing import Any

from alertcommons.hub import deliveries
from alertcommons.hub.publish import Published
from alertcommons.hub.services import Services
from alertcommons.hub.system_issuers import national_issuer
from alertcommons.jp import national_test
from alertcommons.problems import NotFound
from alertcommons.store import alerts as alert_queries
from alertcommons.store import audit
from alertcommons.store import deliveries as delivery_queries

ISSUER_NAME = "全国一斉情報伝達試験"


async def start(hub: Services, actor: str) -> Published:
    """Publish the test message to every receiver, recording who started it."""
    issuer = await national_issuer(
        hub.store, national_test.TEST_ORG_ID, ISSUER_NAME, national_test.TEST_SENDER
    )
    outcome = await hub.publisher.publish(issuer, national_test.test_message())
    await hub.store.write(
        lambda c: audit.append(
            c, actor=actor, action="national-test.start", subject=outcome.alert_id
        )
    )
    return outcome


async def report(hub: Services, test_id: str) -> tuple[Any, dict[str, Any]]:
    """The test's alert row and its delivery report, every receiver named (admins only)."""
    alert = await hub.store.read(lambda c: alert_queries.get(c, test_id))
    if alert is None or alert.organization_id != national_test.TEST_ORG_ID:
        raise NotFound(f"no nationwide test '{test_id}'")
    return alert, await deliveries.board(hub, test_id, viewer="", is_admin=True)


async def recent(hub: Services, limit: int = 10) -> list[dict[str, Any]]:
    """The latest tests, each with its delivery counts (the console's admin page)."""

    def load(connection: Any) -> list[dict[str, Any]]:
        rows = alert_queries.list_alerts(
            connection, alert_queries.AlertQuery(sender=national_test.TEST_SENDER, limit=limit)
        )
        return [
            {
                "row": row,
                **deliveries.report(
                    delivery_queries.report_rows(connection, row.id), row.sent_text
                ),
            }
            for row in rows
        ]

    return await hub.store.read(load)
