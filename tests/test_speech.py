"""Spoken alerts: a level-4 evacuation order synthesized offline in Japanese (Open JTalk from
the wheel) and English (eSpeak NG), checked as WAV; served, cached and digested by the hub."""

from __future__ import annotations

import array
import dataclasses
import hashlib
import io
import math
import wave

import pytest

from alertcommons import speech
from alertcommons.cap import read_alert, to_json
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
    city = await hub.chiyoda()
    issued = await hub.evacuate(city)
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


@pytest.mark.anyio
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cap_references_the_announcement_it_was_signed_with(hub: Hub) -> None:
    need_speech("ja-JP")
    need_speech("en-US")
    hub.services.settings = dataclasses.replace(hub.services.settings, speech_in_cap=1)
    city = await hub.chiyoda()
    issued = await hub.evacuate(city)
    alert_id = issued.json()["id"]
    signed = (await hub.client.get(f"/api/v1/alerts/{alert_id}/cap")).content
    alert = read_alert(signed).alert
    spoken = {i.language: i.resources for i in alert.infos if i.resources}
    assert set(spoken) == {"ja-JP", "en-US"}
    for language, (resource,) in spoken.items():
        assert resource.mime_type == "audio/wav" and resource.uri
        path = resource.uri.removeprefix(hub.services.settings.public_base)
        assert path.startswith("/api/v1/audio/")
        served = await hub.client.get(path)
        assert served.status_code == 200 and served.headers["content-type"] == "audio/wav"
        # The resource's size and SHA-1 (CAP 1.2) are the audio's: the signature covers it.
        assert resource.size == str(len(served.content))
        assert resource.digest == hashlib.sha1(served.content).hexdigest()
        assert _read(served.content)[0] == (48000 if language == "ja-JP" else 22050)
    # A name that is not a digest, or none the hub has, is a 404 problem.
    for name in ("0" * 64, "..%2Fhub-key", "x" * 64):
        missing = await hub.client.get(f"/api/v1/audio/{name}.wav")
        assert missing.status_code == 404 and missing.json()["status"] == 404
    # A Cancel carries no announcement: it is not spoken from the CAP.
    lifted = await hub.evacuate(city, action="lift")
    cap = (await hub.client.get(f"/api/v1/alerts/{lifted.json()['id']}/cap")).content
    assert all(not i.resources for i in read_alert(cap).alert.infos)
