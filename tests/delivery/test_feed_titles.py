"""Atom entries read as the alert does: the title in the alert's language with its kind in
that language's words (発表・更新・解除・取消; Issued, Updated, Lifted, Cancelled), never an
English "Cancel:" on a Japanese entry; and each entry links to the public page for people as
well as to the signed CAP for machines."""

from __future__ import annotations

import pytest
from lxml import etree

from alertcommons.jp.kinds import KINDS, WORDS, language_of, titled
from alertcommons.jp.phrases import EN, JA, LANGUAGES, ZH_TW
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
ATOM = "{http://www.w3.org/2005/Atom}"
CHIYODA = "city.chiyoda.lg.jp"


async def _entries(hub: Hub) -> dict[str, etree._Element]:
    feed = etree.fromstring((await hub.client.get("/feeds/all.atom")).content)
    return {
        (entry.findtext(f"{ATOM}id") or "").rsplit("/", 1)[-1]: entry
        for entry in feed.findall(f"{ATOM}entry")
    }


async def test_titles_say_the_kind_in_the_alerts_language(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    order = await hub.evacuate(city)
    lift = await hub.evacuate(city, action="lift")
    headers = {**city["headers"], **CAP_XML}
    wrong = make_alert(CHIYODA, ["131016"], event="避難所開設", headline="避難所開設（誤報）")
    update = make_alert(
        CHIYODA, ["131016"], msg_type="Update", references=reference_to(wrong), event="避難所開設"
    )
    update.infos[0].headline = "避難所を追加しました"
    withdrawal = make_alert(
        CHIYODA,
        ["131016"],
        msg_type="Cancel",
        references=reference_to(update),
        event="避難所開設",
        headline="誤って発表しました",
    )
    english = make_alert(CHIYODA, ["131016"], event="Flood", headline="Flood warning")
    english.infos[0].language = "en-US"
    ids = {}
    for name, alert in (
        ("wrong", wrong),
        ("update", update),
        ("withdrawal", withdrawal),
        ("english", english),
    ):
        answer = await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]

    entries = await _entries(hub)
    titles = {name: entries[i].findtext(f"{ATOM}title") or "" for name, i in ids.items()}
    order_title = entries[order.json()["id"]].findtext(f"{ATOM}title") or ""
    lift_title = entries[lift.json()["id"]].findtext(f"{ATOM}title") or ""
    assert order_title.startswith("【発表】"), order_title
    assert lift_title.startswith("【解除】") and lift_title.count("解除】") == 1, lift_title
    assert titles["wrong"] == "【発表】避難所開設（誤報）"
    assert titles["update"] == "【更新】避難所を追加しました"
    assert titles["withdrawal"] == "【取消】誤って発表しました"
    assert titles["english"] == "Issued: Flood warning"
    for title in (order_title, lift_title, titles["wrong"], titles["withdrawal"]):
        assert not any(w in title for w in ("Alert", "Update", "Cancel", "Lifted", "Issued"))
    assert entries[ids["english"]].get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert entries[ids["withdrawal"]].get("{http://www.w3.org/XML/1998/namespace}lang") == "ja-JP"


async def test_each_entry_links_to_the_public_page_and_the_cap(hub: Hub) -> None:
    city = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    published = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(CHIYODA, ["131016"])),
        headers={**city["headers"], **CAP_XML},
    )
    alert_id = published.json()["id"]
    entry = (await _entries(hub))[alert_id]
    links = {link.get("type"): link for link in entry.findall(f"{ATOM}link")}
    base = hub.services.settings.public_base
    page, cap = links["text/html"], links["application/cap+xml"]
    assert page.get("rel") == cap.get("rel") == "alternate"
    assert page.get("href") == f"{base}/alerts/{alert_id}"
    assert cap.get("href") == f"{base}/api/v1/alerts/{alert_id}/cap"
    shown = await hub.client.get(f"/alerts/{alert_id}")
    assert shown.status_code == 200 and "避難指示" in shown.text
    signed = await hub.client.get(f"/api/v1/alerts/{alert_id}/cap")
    assert signed.status_code == 200 and b"<Signature" in signed.content


def test_every_language_has_a_word_for_every_kind() -> None:
    assert {kind: sorted(WORDS[kind]) for kind in KINDS} == {
        kind: sorted(LANGUAGES) for kind in KINDS
    }
    assert language_of("ja") == JA and language_of("en-GB") == EN and language_of(None) == EN
    assert language_of("zh-Hant-TW") == ZH_TW
    assert titled("【解除】避難指示", "lifted", JA) == "【解除】避難指示"  # not doubled
    assert titled("Evacuation", "cancelled", EN) == "Cancelled: Evacuation"
