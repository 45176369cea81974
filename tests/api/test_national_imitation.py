"""Names and parameters that look like a national warning or a loudspeaker activation are
refused from issuers who may not send them, however spelled; the public pages name the verified
issuer, never an alert's own senderName as if it were the authority (issue 10, row 12)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alertcommons.cap import Alert, ValuePair
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


async def _post(hub: Hub, org: dict[str, Any], alert: Alert) -> httpx.Response:
    headers = {**org["headers"], **CAP_XML}
    return await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)


@pytest.mark.parametrize(
    "name, value",
    [
        ("JP:loudspeaker", "ACTIVATE"),
        ("jp:loudspeaker", "activate"),
        ("\uff2a\uff30:loudspeaker", "activate"),  # full-width JP
        ("JP:loud\u200bspeaker", "activate"),
        ("  JP:loudspeaker  ", "activate"),
        ("JP:\u00adloudspeaker", " activate\u200b "),
        ("JP-Loudspeaker", "on"),
    ],
)
async def test_loudspeaker_variants_refused(hub: Hub, name: str, value: str) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"])
    alert.infos[0].parameters.append(ValuePair(name, value))
    response = await _post(hub, org, alert)
    assert response.status_code == 403, response.text
    assert response.json()["status"] == 403


@pytest.mark.parametrize(
    "change",
    [
        "event_code",
        "event_code_fullwidth",
        "event",
        "sender_name",
        "sender_name_padded",
    ],
)
async def test_national_warning_imitations_refused(hub: Hub, change: str) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"], headline="ミサイル発射。ミサイル発射。")
    info = alert.infos[0]
    if change == "event_code":
        info.event_codes.append(ValuePair("JP:national-warning", "missile"))
        info.sender_name = "内閣官房"
    elif change == "event_code_fullwidth":
        info.event_codes.append(ValuePair(_fullwidth("JP:National-Warning"), "missile"))
    elif change == "event":
        info.event = "弾道ミサイル\u200b情報"
    elif change == "sender_name":
        info.sender_name = "内閣官房"
    else:
        info.sender_name = " 内閣\u3000官房 "
    response = await _post(hub, org, alert)
    assert response.status_code == 403, response.text


async def test_national_issuer_activation_however_spelled(hub: Hub) -> None:
    cas = await hub.org("内閣官房", "cas.go.jp", ["*"])
    alert = make_alert("cas.go.jp", ["13"], event="弾道ミサイル情報")
    alert.infos[0].parameters.append(ValuePair("JP:LOUDSPEAKER", "ACTIVATE"))
    alert.infos[0].event_codes.append(ValuePair("JP:national-warning", "missile"))
    alert.infos[0].sender_name = "内閣官房"
    response = await _post(hub, cas, alert)
    assert response.status_code == 201, response.text
    record = (await hub.client.get(response.headers["location"])).json()
    assert record["activation"] is True


async def test_public_pages_name_the_verified_issuer(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"], headline="避難指示（千代田区）")
    alert.infos[0].sender_name = "東京都知事"
    response = await _post(hub, org, alert)
    assert response.status_code == 201, response.text
    index = (await hub.client.get("/?lang=ja")).text
    assert "発信元: 東京都千代田区" in index
    assert "発信元: 東京都知事" not in index
    assert "未確認" in index and "東京都知事" in index  # shown only as the alert's own claim
    page = (await hub.client.get(f"/alerts/{response.json()['id']}?lang=ja")).text
    assert "<dd>東京都千代田区<br>" in page
