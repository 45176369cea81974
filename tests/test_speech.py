"""Spoken alerts: a level-4 evacuation order synthesized offline in Japanese (Open JTalk from
the wheel) and English (eSpeak NG), checked as WAV; served, cached and digested by the hub."""

from __future__ import annotations

import array
import hashlib
import io
import math
import wave

import pytest

from alertcommons import speech
from alertcommons.cap import to_json
from alertcommons.jp import evacuation
from tests.support.hub import Hub
from tests.support.services import need_speech

ORDER = evacuation.Order("13101", 4, "flood")


def _info(language: str) -> dict[str, object]:
    document = to_json(evacuation.build(ORDER, "city.chiyoda.tokyo.jp"))
    return next(dict(i) for i in document["info"] if i["language"] == language)


def _read(data: bytes) -> tuple[int, array.array[int]]:
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        samples = array.array("h", reader.readframes(reader.getnframes()))
        return reader.getframerate(), samples


def _rms(samples: array.array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


@pytest.mark.parametrize(("language", "rate"), [("ja-JP", 48000), ("en-US", 22050)])
def test_level_4_order_is_spoken(language: str, rate: int) -> None:
    need_speech(language)
    info = _info(language)
    once = speech.speak(speech.script(info), language)
    assert once.rate == rate and 3.0 < once.seconds < 40.0
    wav = speech.announcement(info, repeat=2).wav()
    got_rate, samples = _read(wav)
    seconds = len(samples) / got_rate
    chimes = 2 * len(speech.CHIME_NOTES) * speech.NOTE_SECONDS
    assert got_rate == rate
    # Chime, the message twice with pauses, chime: no more, no less.
    expected = chimes + 2 * once.seconds + 3 * speech.PAUSE_SECONDS
    assert abs(seconds - expected) < 0.1, (seconds, expected)
    # Not silent: the voice itself (after the opening chime and pause) carries energy.
    start = int((len(speech.CHIME_NOTES) * speech.NOTE_SECONDS + speech.PAUSE_SECONDS) * rate)
    voice = samples[start : start + int(once.seconds * rate)]
    assert _rms(voice) > 300 and max(abs(s) for s in voice) > 3000
    # The opening chime is there too, before the voice.
    assert _rms(samples[: int(speech.NOTE_SECONDS * rate)]) > 1000


def test_reading_in_brackets_is_not_said_twice() -> None:
    info = _info("ja-JP-x-easy")
    assert "（とうきょうとちよだく）" in str(info["description"])
    assert "（とうきょうとちよだく）" not in speech.script(info)


@pytest.mark.anyio
async def test_hub_serves_the_audio_cached_with_its_digest(hub: Hub) -> None:
    need_speech("ja-JP")
    need_speech("en-US")
    city = await hub.org("東京都千代田区", "city.chiyoda.tokyo.jp", ["131016"])
    issued = await hub.client.post(
        "/api/v1/jp/evacuation",
        headers=city["headers"],
        json={"municipality": "131016", "level": 4, "hazard": "flood"},
    )
    alert_id = issued.json()["id"]
    for lang, language, rate in (("ja", "ja-JP", 48000), ("en", "en-US", 22050)):
        response = await hub.client.get(f"/api/v1/alerts/{alert_id}/audio", params={"lang": lang})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "audio/wav"
        assert response.headers["content-language"] == language
        digest = hashlib.sha256(response.content).hexdigest()
        assert response.headers["etag"] == f'"{digest}"'
        assert _read(response.content)[0] == rate
        # Cached on disk by the alert's content: the second answer is the same file.
        cached = list((hub.services.settings.data_dir / "audio").glob(f"*.{language}.2.wav"))
        assert len(cached) == 1 and cached[0].read_bytes() == response.content
        again = await hub.client.get(f"/api/v1/alerts/{alert_id}/audio", params={"lang": lang})
        assert again.content == response.content
    once = await hub.client.get(f"/api/v1/alerts/{alert_id}/audio?lang=en&repeat=1")
    assert len(once.content) < len(response.content)
    bad = await hub.client.get(f"/api/v1/alerts/{alert_id}/audio?lang=en&repeat=9")
    assert bad.status_code == 422 and bad.json()["status"] == 422
    none = await hub.client.get(f"/api/v1/alerts/{alert_id}/audio?lang=fr")
    assert none.status_code == 404 and none.json()["status"] == 404
