"""What the hub admits beyond CAP validity (issue 10 rows 14 and 15, issue 11 rows 12 and
21): fresh times and never a 500 for extreme dates, bounded text and geometry, an info in
every Actual alert, and validation that does not stall the event loop."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertcommons.cap import Alert, ValuePair, to_json
from alertcommons.hub.admission import Admission
from alertcommons.hub.publish import VALIDATION_WORKERS
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"
TOKYO = "metro.tokyo.jp"


async def _post(hub: Hub, org: dict[str, Any], alert: Alert) -> httpx.Response:
    headers = {**org["headers"], **CAP_XML}
    return await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)


def _paths(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {error["path"] for error in response.json()["errors"]}


# --- row 14: freshness, skew, extreme dates -------------------------------------------------


async def test_stale_and_far_future_alerts_refused(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    now = datetime.now(UTC)
    stale = make_alert(CHIYODA, ["131016"], sent=now - timedelta(hours=72), hours=24)
    assert _paths(await _post(hub, org, stale)) == {"alert/sent", "alert/info[1]/expires"}
    for sent in (datetime(2099, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)):
        assert "alert/sent" in _paths(await _post(hub, org, make_alert(CHIYODA, sent=sent)))
    expired = make_alert(CHIYODA, ["131016"], sent=now - timedelta(hours=2), hours=1)
    assert _paths(await _post(hub, org, expired)) == {"alert/info[1]/expires"}
    fresh = make_alert(CHIYODA, ["131016"], sent=now - timedelta(minutes=30))
    assert (await _post(hub, org, fresh)).status_code == 201


@pytest.mark.parametrize("field", ["sent", "effective", "onset", "expires", "references"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_extreme_dates_are_422_not_500(hub: Hub, field: str, moment: str) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"])
    if field == "sent":
        alert.sent = moment
    elif field == "references":
        alert.msg_type, alert.references = "Update", f"{CHIYODA},earlier,{moment}"
    else:
        setattr(alert.infos[0], field, moment)
    for response in (
        await _post(hub, org, alert),
        await hub.client.post("/api/v1/alerts", json=to_json(alert), headers=org["headers"]),
    ):
        assert response.status_code == 422, response.text
        assert "outside the years" in response.text


def test_cli_validate_reports_extreme_dates(tmp_path: Path) -> None:
    alert = make_alert(CHIYODA, ["131016"])
    alert.sent = "9999-12-31T23:59:59-14:00"
    path = tmp_path / "extreme.cap"
    path.write_bytes(xml(alert))
    result = subprocess.run(
        [sys.executable, "-m", "alertcommons", "cap", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "outside the years" in result.stdout + result.stderr


def test_time_limits_are_settings() -> None:
    old = make_alert(CHIYODA, ["131016"], sent=datetime.now(UTC) - timedelta(hours=30), hours=48)
    assert [p.path for p in Admission().problems(old)] == ["alert/sent"]
    assert Admission(max_sent_age=0).problems(old) == []
    assert Admission(max_sent_age=48 * 3600).problems(old) == []
    ahead = make_alert(CHIYODA, sent=datetime.now(UTC) + timedelta(minutes=20))
    assert [p.path for p in Admission().problems(ahead)] == ["alert/sent"]
    assert Admission(max_future_skew=3600).problems(ahead) == []


# --- issue 11 row 21: an Actual alert needs an info -----------------------------------------


@pytest.mark.parametrize("msg_type", ["Alert", "Update"])
async def test_infoless_actual_alert_refused(hub: Hub, msg_type: str) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    first = make_alert(CHIYODA, ["131016"])
    assert (await _post(hub, org, first)).status_code == 201
    bare = make_alert(
        CHIYODA, msg_type=msg_type, references=reference_to(first) if msg_type == "Update" else None
    )
    bare.infos.clear()
    assert _paths(await _post(hub, org, bare)) == {"alert/info"}
    drill = make_alert(CHIYODA, status="Exercise")
    drill.infos.clear()
    assert (await _post(hub, org, drill)).status_code == 201
    cancel = make_alert(CHIYODA, msg_type="Cancel", references=reference_to(first))
    cancel.infos.clear()
    assert (await _post(hub, org, cancel)).status_code == 201


# --- issue 11 row 12: size limits on every text field ---------------------------------------


@pytest.mark.parametrize(
    "where, size",
    [
        ("headline", 300_000),
        ("description", 50_001),
        ("instruction", 20_001),
        ("event", 257),
        ("senderName", 257),
        ("parameter", 4_001),
        ("areaDesc", 4_001),
        ("note", 10_001),
    ],
)
async def test_text_over_its_limit_refused(hub: Hub, where: str, size: int) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"])
    info = alert.infos[0]
    text = "あ" * size
    path = {
        "headline": "alert/info[1]/headline",
        "description": "alert/info[1]/description",
        "instruction": "alert/info[1]/instruction",
        "event": "alert/info[1]/event",
        "senderName": "alert/info[1]/senderName",
        "parameter": "alert/info[1]/parameter[1]/value",
        "areaDesc": "alert/info[1]/area[1]/areaDesc",
        "note": "alert/note",
    }[where]
    if where == "parameter":
        info.parameters.append(ValuePair("note", text))
    elif where == "areaDesc":
        info.areas[0].area_desc = text
    elif where == "note":
        alert.note = text
    else:
        setattr(info, {"senderName": "sender_name"}.get(where, where), text)
    for response in (
        await _post(hub, org, alert),
        await hub.client.post("/api/v1/alerts", json=to_json(alert), headers=org["headers"]),
    ):
        if response.status_code == 413:  # over the test hub's 256 KiB body limit first
            continue
        assert path in _paths(response)


# --- issue 10 row 15: bounded polygons, validation off the event loop ----------------------


def _ring(lat: float, lon: float, radius: float, vertices: int) -> str:
    points = [
        (
            lat + radius * math.sin(2 * math.pi * i / vertices),
            lon + radius * math.cos(2 * math.pi * i / vertices),
        )
        for i in range(vertices)
    ]
    points.append(points[0])
    return " ".join(f"{a:.5f},{b:.5f}" for a, b in points)


async def test_polygon_vertices_bounded(hub: Hub) -> None:
    national = await hub.org("内閣府", "cao.go.jp", ["*"])
    alert = make_alert("cao.go.jp", polygon=_ring(35.0, 135.0, 1.0, 12_000))
    response = await hub.client.post(
        "/api/v1/alerts", json=to_json(alert), headers=national["headers"]
    )
    assert response.status_code in (413, 422), response.text
    if response.status_code == 422:
        assert "vertices" in response.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_heavy_validation_runs_in_the_validation_worker(hub: Hub) -> None:
    """While every validation thread is busy, the hub still answers /healthz, and a publish
    waits for a thread instead of parsing and checking its alert on the event loop."""
    tokyo = await hub.org("東京都", TOKYO, ["13"])
    heavy = make_alert(TOKYO, polygon=_ring(35.690, 139.700, 0.05, 9_000))
    gate = threading.Event()
    pool = hub.services.publisher._worker
    busy = [pool.submit(gate.wait, 30) for _ in range(VALIDATION_WORKERS)]
    try:
        task = asyncio.ensure_future(_post(hub, tokyo, heavy))
        for _ in range(20):
            assert (await hub.client.get("/healthz")).status_code == 200
            await asyncio.sleep(0)  # an in-process request may never suspend: let others run
        assert not task.done()
    finally:
        gate.set()
    response = await task
    assert response.status_code == 201, response.text
    assert all(future.result() for future in busy)
