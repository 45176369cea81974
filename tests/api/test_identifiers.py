"""Identifiers, senders and references are refused or normalized consistently (issue 11,
row 7): "x " and "x" cannot both be stored, and an alert written in pretty-printed XML can be
cancelled."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alertcommons.cap import Alert, to_json
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"


async def _json(hub: Hub, org: dict[str, Any], alert: Alert) -> httpx.Response:
    return await hub.client.post("/api/v1/alerts", json=to_json(alert), headers=org["headers"])


async def _xml(hub: Hub, org: dict[str, Any], body: bytes) -> httpx.Response:
    headers = {**org["headers"], **CAP_XML}
    return await hub.client.post("/api/v1/alerts", content=body, headers=headers)


def _pretty(body: bytes, element: str) -> bytes:
    """The element's text indented as a pretty-printer lays it out."""
    text = body.decode()
    start = text.index(f"<{element}>") + len(element) + 2
    end = text.index(f"</{element}>")
    return (text[:start] + "\n    " + text[start:end] + "\n  " + text[end:]).encode()


@pytest.mark.parametrize("field", ["identifier", "sender"])
@pytest.mark.parametrize("value", ["x ", " x", "a b", "a\tb", "a,b", "a<b", "a&b", "x\n"])
async def test_forbidden_characters_refused(hub: Hub, field: str, value: str) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"])
    if field == "identifier":
        alert.identifier = value
    else:
        alert.sender = CHIYODA + value
    response = await _json(hub, org, alert)
    assert response.status_code == 422, response.text
    assert f"alert/{field}" in {e["path"] for e in response.json()["errors"]}


async def test_references_with_surrounding_space_refused(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    first = make_alert(CHIYODA, ["131016"])
    assert (await _json(hub, org, first)).status_code == 201
    update = make_alert(
        CHIYODA, ["131016"], msg_type="Update", references=f" {reference_to(first)} "
    )
    response = await _json(hub, org, update)
    assert response.status_code == 422, response.text
    assert "alert/references" in {e["path"] for e in response.json()["errors"]}


async def test_pretty_printed_xml_is_stored_stripped_and_can_be_cancelled(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"], identifier="x", hours=48)
    body = _pretty(_pretty(_pretty(xml(alert), "identifier"), "sender"), "sent")
    created = await _xml(hub, org, body)
    assert created.status_code == 201, created.text
    assert created.json()["identifier"] == "x"
    record = (await hub.client.get(created.headers["location"])).json()
    assert record["identifier"] == "x" and record["sender"] == CHIYODA

    # the same alert as compact XML is the same alert, not a second one
    again = await _xml(hub, org, xml(alert))
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    spaced = make_alert(CHIYODA, ["131016"], identifier="x ")
    assert (await _json(hub, org, spaced)).status_code == 422

    cancel = make_alert(CHIYODA, msg_type="Cancel", references=reference_to(alert))
    cancel.infos.clear()
    cancel_body = _pretty(_pretty(xml(cancel), "identifier"), "references")
    cancelled = await _xml(hub, org, cancel_body)
    assert cancelled.status_code == 201, cancelled.text
    record = (await hub.client.get(created.headers["location"])).json()
    assert record["active"] is False
