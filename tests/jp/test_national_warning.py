"""National warnings (J-Alert): only national issuers send them; they jump every queue and
ask loudspeakers to start — over MQTT as an activation command, in JSON as a flag."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import select

from alertcommons.cap.model import ValuePair
from alertcommons.jp.phrases import LANGUAGES
from alertcommons.store.schema import audit_log, deliveries
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.mqtt import Subscriber
from tests.support.receivers import Receiver
from tests.support.services import need
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
CAS = "cas.go.jp"  # 内閣官房
MIYAGI = "pref.miyagi.jp"


async def _priorities(hub: Hub, alert_id: str) -> set[int]:
    query = select(deliveries.c.priority).where(deliveries.c.alert_id == alert_id)
    return await hub.services.store.read(lambda c: {row[0] for row in c.execute(query)})


async def test_missile_warning_activates_loudspeakers_first(hub: Hub) -> None:
    need("Mosquitto", "127.0.0.1", 1883)
    hub.dispatch_fast()
    cas = await hub.org("内閣官房", CAS, ["*"])
    miyagi = await hub.org("宮城県", MIYAGI, ["04"])
    rx = await hub.org("石巻市防災行政無線", None, [], kind="receiver")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    endpoint = {
        "channel": "mqtt",
        "host": "127.0.0.1",
        "port": 1883,
        "topic_prefix": prefix,
        "filter": {"areas": ["042021"]},
    }
    assert (
        await hub.client.post("/api/v1/endpoints", json=endpoint, headers=rx["headers"])
    ).status_code == 201
    speakers = Subscriber(f"{prefix}/activate/#")
    try:
        response = await hub.client.post(
            "/api/v1/jp/national-warnings",
            headers=cas["headers"],
            json={"kind": "missile", "areas": ["04", "03"]},
        )
        assert response.status_code == 201, response.text
        sent = response.json()
        assert sent["activation"] is True and sent["deliveries"] == 1
        # Top of the queue: above an Immediate + Extreme alert of a prefecture.
        assert await _priorities(hub, sent["id"]) == {-1}
        tsunami = make_alert(MIYAGI, ["042021"], urgency="Immediate", severity="Extreme")
        local = await hub.client.post(
            "/api/v1/alerts", content=xml(tsunami), headers={**miyagi["headers"], **CAP_XML}
        )
        assert local.status_code == 201
        assert await _priorities(hub, local.json()["id"]) == {0}

        await until(lambda: speakers.messages)
        command = json.loads(speakers.messages[0][0])
        assert speakers.topics[0].startswith(f"{prefix}/activate/")
        assert command["activate"] is True and command["alert_id"] == sent["id"]
        assert command["event"] == "弾道ミサイル情報"
        assert "ミサイル発射" in command["text"]
        await until(lambda: len(speakers.messages) >= 2)
        await asyncio.sleep(0.3)
        # One command per area of the warning; the prefecture's own alert activates nothing.
        assert sorted(speakers.topics) == [f"{prefix}/activate/03", f"{prefix}/activate/04"]
        assert {json.loads(m[0])["alert_id"] for m in speakers.messages} == {sent["id"]}

        record = (await hub.client.get(f"/api/v1/alerts/{sent['id']}")).json()
        assert record["activation"] is True and record["severity"] == "Extreme"
        languages = [info["language"] for info in record["alert"]["info"]]
        # Japanese first, then English and every other language of the phrase table.
        assert languages == list(LANGUAGES) and languages[:2] == ["ja-JP", "en-US"]
    finally:
        speakers.stop()


async def test_activation_is_for_national_issuers_only(hub: Hub) -> None:
    miyagi = await hub.org("宮城県", MIYAGI, ["04"])
    refused = await hub.client.post(
        "/api/v1/jp/national-warnings",
        headers=miyagi["headers"],
        json={"kind": "missile", "areas": ["04"]},
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")

    # Asking for activation inside a CAP alert of one's own is refused too, and audited.
    alert = make_alert(MIYAGI, ["042021"])
    alert.infos[0].parameters.append(ValuePair("JP:loudspeaker", "activate"))
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**miyagi["headers"], **CAP_XML}
    )
    assert response.status_code == 403
    assert "loudspeaker" in response.json()["detail"]
    query = select(audit_log.c.action, audit_log.c.detail)
    entries = await hub.services.store.read(lambda c: list(c.execute(query)))
    assert any(
        action == "alert.refused" and "loudspeaker" in str(detail) for action, detail in entries
    )


async def test_bad_national_warnings_are_refused(hub: Hub) -> None:
    cas = await hub.org("内閣官房", CAS, ["*"])
    for body in (
        {"kind": "alien_invasion", "areas": ["04"]},
        {"kind": "missile", "areas": []},
        {"kind": "missile", "areas": ["131017"]},  # wrong check digit
        {"kind": "missile"},
    ):
        response = await hub.client.post(
            "/api/v1/jp/national-warnings", headers=cas["headers"], json=body
        )
        assert response.status_code == 422, (body, response.text)


async def test_national_warning_reaches_json_webhook_with_flag(hub: Hub) -> None:
    hub.dispatch_fast()
    cas = await hub.org("内閣官房", CAS, ["*"])
    rx = await hub.org("Broadcaster", None, [], kind="receiver")
    with Receiver() as receiver:
        endpoint = {
            "channel": "webhook",
            "url": receiver.url("/ok/tv"),
            "format": "json",
            "filter": {"areas": ["13"]},
        }
        assert (
            await hub.client.post("/api/v1/endpoints", json=endpoint, headers=rx["headers"])
        ).status_code == 201
        response = await hub.client.post(
            "/api/v1/jp/national-warnings",
            headers=cas["headers"],
            json={"kind": "eew", "areas": ["13"]},
        )
        assert response.status_code == 201
        await until(lambda: receiver.for_path("/ok/tv"))
        body = json.loads(receiver.for_path("/ok/tv")[0].body)
        assert body["activation"] is True
        assert body["alert"]["info"][0]["event"] == "緊急地震速報"
