"""JMA event identity: one office's reports of one kind of warning and event, in one status.

Real reports from the shared samples go through a local feed server and the hub's feed ingest:
a training (訓練) copy of 奈良's 大雨特別警報 never replaces the real one, and the per-hazard
warnings of one office (松江's 大雨 and 土砂災害, 稚内's 大雨 and 暴風) stay separate events,
all in force together."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from alertcommons.hub.admission import Admission
from alertcommons.hub.jma_ingest import JMAIngest
from tests.support.hub import Hub
from tests.support.jma_feed import FeedServer
from tests.support.waiting import until

pytestmark = pytest.mark.anyio

NARA = "15_08_01_130412_VPWW53.xml"  # 奈良: 大雨特別警報
NARA_DRILL = "drill_" + NARA  # the same report, Status 訓練
MATSUE = ("15_17_01_241226_VPWW55.xml", "15_17_01_241226_VPWW56.xml")  # 大雨, 土砂災害
WAKKANAI = ("15_16_03_241226_VPWW55.xml", "15_16_04_241226_VPWW58.xml")  # 大雨, 暴風


@pytest.fixture
async def feed(shared_data: Path, tmp_path: Path) -> AsyncIterator[FeedServer]:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in (NARA, *MATSUE, *WAKKANAI):
        shutil.copy(shared_data / "jma-samples" / name, folder / name)
    real = (folder / NARA).read_text(encoding="utf-8")
    assert real.count("<Status>通常</Status>") == 1  # the Control status, nothing else
    (folder / NARA_DRILL).write_text(real.replace("<Status>通常</Status>", "<Status>訓練</Status>"))
    with FeedServer(folder) as server:
        yield server


async def _in_force(hub: Hub, status: str) -> list[dict[str, Any]]:
    response = await hub.client.get(
        "/api/v1/alerts", params={"sender": "jma.go.jp", "active": "true", "status": status}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def _handled(ingest: JMAIngest) -> int:
    status = ingest.status()
    return sum(status[k] for k in ("published", "duplicates", "skipped", "refused", "errors"))


async def test_training_and_other_kinds_never_replace_a_warning(hub: Hub, feed: FeedServer) -> None:
    # The samples are years old: the hub's freshness check is off here, as an operator
    # replaying an archive would set ALERTCOMMONS_MAX_SENT_AGE_SECONDS=0.
    hub.services.publisher.admission = Admission(max_sent_age=0)
    for name in (NARA, NARA_DRILL, *MATSUE, *WAKKANAI):
        feed.add("regular", name, "気象警報・注意報")
    # The samples were sent years ago: the freshness limit is off for this ingest test.
    hub.services.publisher.admission = Admission(max_sent_age=0)
    ingest = JMAIngest(
        hub.services.store, hub.services.publisher, feed.base_url, ("regular",), 0.05
    )
    await ingest.start()
    try:
        await until(lambda: _handled(ingest) >= 6, seconds=20)
    finally:
        await ingest.stop()
    assert ingest.status()["published"] == 6

    actual = await _in_force(hub, "Actual")
    # Five real warnings, each the first of its own event: none replaced another.
    assert len(actual) == 5 and {a["msgType"] for a in actual} == {"Alert"}
    events = {a["alert"]["info"][0]["senderName"] for a in actual}
    assert events == {"奈良地方気象台", "松江地方気象台", "稚内地方気象台"}
    nara = [a for a in actual if a["alert"]["info"][0]["senderName"] == "奈良地方気象台"]
    assert nara[0]["alert"]["info"][0]["event"].startswith("大雨特別警報")
    assert nara[0]["superseded_by"] is None
    drills = await _in_force(hub, "Exercise")
    assert len(drills) == 1 and drills[0]["msgType"] == "Alert"
    assert drills[0]["references"] == []
