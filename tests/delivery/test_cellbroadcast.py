"""Cell-broadcast text: real JMA reports and the hub's own messages within 3GPP TS 23.041's
limits, shortened by whole pieces, never inside a word, a number or a place name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from alertcommons.cap import to_json
from alertcommons.delivery import cellbroadcast as cb
from alertcommons.delivery.channels.webhook import verify_signature
from alertcommons.delivery.dispatcher import DispatchSettings
from alertcommons.jp.jma import convert
from alertcommons.jp.phrases import LANGUAGES
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


def _jma(shared_data: Path, name: str) -> dict[str, Any]:
    converted = convert((shared_data / "jma-samples" / name).read_bytes())
    assert converted.alert is not None
    document: dict[str, Any] = to_json(converted.alert)
    return document


def _within_limits(form: dict[str, Any]) -> None:
    encoding = cb.GSM7 if form["encoding"] == "GSM-7" else cb.UCS2
    assert 1 <= form["pages"] == len(form["page_texts"]) <= cb.MAX_PAGES
    assert all(encoding.cost(page) <= encoding.page for page in form["page_texts"])
    assert "".join(form["page_texts"]) == form["text"]
    assert len(form["short"]["text"]) <= cb.SHORT_LENGTH


def test_every_real_jma_report_fits(shared_data: Path) -> None:
    fitted = 0
    for path in sorted((shared_data / "jma-samples").glob("*.xml")):
        converted = convert(path.read_bytes())
        if converted.alert is None:
            continue
        for language, form in cb.for_alert(to_json(converted.alert)).items():
            _within_limits(form)
            assert form["encoding"] == "UCS-2" or language not in ("ja-JP", "zh-CN", "ko-KR")
            fitted += 1
    assert fitted > 250 * 8


def test_landslide_report_at_the_page_limit_drops_whole_sentences(shared_data: Path) -> None:
    # 土砂災害警戒情報 (2019-05-29, 渡島・檜山): about 300 characters, ten UCS-2 pages.
    info = _jma(shared_data, "17_02_01_190529_VXWW50.xml")["info"][0]
    whole = cb.for_info(info)
    assert not whole["shortened"] and whole["text"].endswith("松前町、福島町")
    # Forced into fewer pages, the same report loses its last pieces whole, least important
    # first: the areas, then the description's sentences from the end.
    parts = [[info["headline"]], cb.sentences(info["description"]), ["対象地域：松前町、福島町"]]
    limit = cb.UCS2.page * 4
    fitted = cb.fit(parts, limit, cb.UCS2.cost, "…")
    assert fitted.shortened and cb.UCS2.cost(fitted.text) <= limit
    kept = fitted.text.removesuffix("…")
    assert "対象地域" not in kept and kept.startswith(info["headline"])
    assert kept.endswith("。") or kept.endswith("＞")  # a whole sentence, never half of one
    # The short form keeps the headline and whole sentences only.
    short = whole["short"]
    assert short["shortened"] and short["text"].startswith("渡島・檜山地方土砂災害警戒情報")
    assert short["text"].removesuffix("…").endswith("です。")


def test_area_list_of_a_real_warning_is_cut_between_place_names(shared_data: Path) -> None:
    # 奈良県気象警報・注意報 (2015-08-01): the area list is long; at the short form's length it
    # must end on a whole municipality name.
    info = _jma(shared_data, "15_08_01_130412_VPWW53.xml")["info"][0]
    areas = info["area"][0]["areaDesc"]
    names = set(re.split("、", areas.removesuffix("ほか")))
    fitted = cb.fit([["対象地域：" + areas]], 60, len, "…")
    tail = fitted.text.removesuffix("…").rstrip("、").split("：")[-1].split("、")[-1]
    assert fitted.shortened and tail in names


def test_pages_never_split_a_number_or_a_word() -> None:
    text = "Tsunami of 12.5 m expected at 14:35 in Kesennuma. " * 40
    form = cb.for_info(
        {"language": "en-US", "headline": "Major tsunami warning", "description": text}
    )
    assert form["encoding"] == "GSM-7" and form["shortened"]
    _within_limits(form)
    for page in form["page_texts"]:
        assert page == "" or page[-1] in " \n" or page == form["page_texts"][-1]
    assert form["text"].endswith("...")
    # Extension characters count two septets.
    assert cb.GSM7.cost("€[]") == 6 and cb.encoding_for("こんにちは") is cb.UCS2
    long_number = "1" * 120
    pages = cb.paginate("x " + long_number, cb.GSM7)
    assert pages[0] == "x " and "".join(pages) == "x " + long_number


@pytest.mark.anyio
async def test_endpoint_answers_each_language_of_a_level_4_order(hub: Hub) -> None:
    city = await hub.chiyoda()
    issued = await hub.evacuate(city)
    alert_id = issued.json()["id"]
    response = await hub.client.get(f"/api/v1/alerts/{alert_id}/cell-broadcast")
    assert response.status_code == 200
    forms = response.json()
    assert forms["ja-JP"]["encoding"] == "UCS-2" and forms["en-US"]["encoding"] == "GSM-7"
    assert forms["en-US"]["text"].startswith(
        "[Alert level 4] Evacuation order (flood): all of Chiyoda-ku"
    )
    assert set(forms) == set(LANGUAGES)
    assert forms["ja-JP"]["text"].startswith("【警戒レベル4】避難指示（洪水）")
    for form in forms.values():
        assert set(form) >= {"text", "encoding", "pages", "shortened"}
        _within_limits(form)
    only = await hub.client.get(
        f"/api/v1/alerts/{alert_id}/cell-broadcast", params={"lang": "en-US"}
    )
    assert list(only.json()) == ["en-US"]
    missing = await hub.client.get(f"/api/v1/alerts/{alert_id}/cell-broadcast?lang=xx")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    unknown = await hub.client.get("/api/v1/alerts/nope/cell-broadcast")
    assert unknown.status_code == 404


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_carriers_gateway_takes_it_as_a_webhook(hub: Hub) -> None:
    hub.services.dispatcher.settings = DispatchSettings(retry_base_seconds=0.05, poll_seconds=0.05)
    city = await hub.chiyoda()
    carrier = await hub.org("携帯電話事業者", None, [], kind="receiver")
    with Receiver() as gateway:
        endpoint = {
            "channel": "webhook",
            "url": gateway.url("/ok/etws"),
            "format": "cell-broadcast",
            "secret": SECRET,
            "filter": {"areas": ["13101"]},
        }
        created = await hub.client.post(
            "/api/v1/endpoints", json=endpoint, headers=carrier["headers"]
        )
        assert created.status_code == 201, created.text
        issued = await hub.client.post(
            "/api/v1/jp/evacuation",
            headers=city["headers"],
            json={"municipality": "131016", "level": 5, "hazard": "landslide"},
        )
        alert_id = issued.json()["id"]
        await until(lambda: len(gateway.received) >= 1)
        (got,) = gateway.for_path("/ok/etws")
        assert got.headers["content-type"] == "application/json"
        assert verify_signature(SECRET, got.headers, got.body)  # the gateway can trust it
        body = json.loads(got.body)
        assert body["alert_id"] == alert_id and body["severity"] == "Extreme"
        served = (await hub.client.get(f"/api/v1/alerts/{alert_id}/cell-broadcast")).json()
        assert body["cell_broadcast"] == served
        assert body["cell_broadcast"]["ja-JP"]["text"].startswith("【警戒レベル5】緊急安全確保")
    bad = {"channel": "webhook", "url": "http://127.0.0.1:9/x", "format": "sms"}
    refused = await hub.client.post("/api/v1/endpoints", json=bad, headers=carrier["headers"])
    assert refused.status_code == 422 and "cell-broadcast" in refused.text
