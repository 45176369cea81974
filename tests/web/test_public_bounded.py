"""What a public page shows is bounded: five alerts with 300,000-character headlines and
descriptions (stored as an older hub would have taken them) make neither the index nor an
alert's page megabytes long; the index shows the start of each headline, the alert's page more
of it, both marking the cut."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alertcommons.store import alerts as alert_queries
from alertcommons.web.public import INDEX_TEXT, PAGE_TEXT
from tests.support.alerts import make_alert, stored_rows
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
HUGE = 300_000


async def test_huge_text_makes_no_huge_page(hub: Hub) -> None:
    org = await hub.org("Verbose", "verbose.example", ["13"])
    alert = make_alert("verbose.example", ["131016"], headline="避" * HUGE)
    alert = replace(alert, infos=[replace(alert.infos[0], description="難" * HUGE)])
    rows = stored_rows(alert, org["id"], 5, "13101")
    await hub.services.store.write(lambda c: alert_queries.insert_alerts(c, rows))
    hub.services.rendered.changed()

    index = await hub.client.get("/")
    assert index.status_code == 200
    assert len(index.content) < 200_000, len(index.content)
    assert "避" * (INDEX_TEXT - 1) + "…" in index.text
    page = await hub.client.get(f"/alerts/{rows[0].id}")
    assert page.status_code == 200
    assert len(page.content) < 6 * PAGE_TEXT * 3, len(page.content)  # a few fields, 3 B a char
    assert "難" * (PAGE_TEXT - 1) + "…" in page.text
