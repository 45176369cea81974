"""The public alert page offers every language the alert carries, each a link, and shows the
one chosen (Easy Japanese and Chinese included) with its language tag; cached per choice.
Receivers choose theirs with the endpoint filter."""

from __future__ import annotations

import json
import re

import pytest

from alertcommons.delivery.dispatcher import DispatchSettings
from alertcommons.jp.phrases import LANGUAGES
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_every_language_is_offered_and_shown(hub: Hub) -> None:
    city = await hub.chiyoda()
    issued = await hub.evacuate(city)
    alert_id = issued.json()["id"]
    page = (await hub.client.get(f"/alerts/{alert_id}?lang=en")).text
    offered = re.findall(r'href="\?lang=en&amp;text=([^"]+)"', page)
    assert offered == list(LANGUAGES)
    expected = {
        "zh-TW": ("zh-TW", "【警戒等級4】避難指示（洪水）：東京都千代田区全境"),
        "ja-JP-x-easy": ("ja-JP", "【レベル4】みんな にげて ください（こうずい）"),
        "vi-VN": ("vi-VN", "[Cấp cảnh báo 4] Lệnh sơ tán (lũ lụt): toàn bộ Chiyoda-ku, Tokyo"),
    }
    for code, (tag, headline) in expected.items():
        shown = (await hub.client.get(f"/alerts/{alert_id}?lang=en&text={code}")).text
        assert f'<article class="alert severity-severe" lang="{tag}">' in shown
        assert headline in shown and 'aria-current="true"' in shown
    # An unknown choice is ignored, never an error: the page in the reader's language.
    unknown = await hub.client.get(f"/alerts/{alert_id}?lang=en&text=xx-<b>")
    assert unknown.status_code == 200 and "[Alert level 4] Evacuation order" in unknown.text


async def test_receivers_choose_their_language(hub: Hub) -> None:
    hub.services.dispatcher.settings = DispatchSettings(retry_base_seconds=0.05, poll_seconds=0.05)
    city = await hub.chiyoda()
    with Receiver() as receiver:
        for org, languages in (("Vietnamese radio", ["vi"]), ("French radio", ["fr"])):
            station = await hub.org(org, None, [], kind="receiver")
            endpoint = {
                "channel": "webhook",
                "url": receiver.url(f"/ok/{languages[0]}"),
                "format": "json",
                "filter": {"areas": ["13"], "languages": languages},
            }
            created = await hub.client.post(
                "/api/v1/endpoints", json=endpoint, headers=station["headers"]
            )
            assert created.status_code == 201, created.text
        issued = await hub.evacuate(city)
        assert issued.json()["deliveries"] == 1  # the hub writes no French
        await until(lambda: len(receiver.received) >= 1)
        (got,) = receiver.for_path("/ok/vi")
        infos = json.loads(got.body)["alert"]["info"]
        vietnamese = next(i for i in infos if i["language"] == "vi-VN")
        assert vietnamese["headline"].startswith("[Cấp cảnh báo 4] Lệnh sơ tán (lũ lụt)")
