"""The spoken form of an alert, for disaster-radio loudspeakers (the optional ``speech`` extra).

J-Alert's structure: a rising chime, the message, repeated (twice by default), a falling
chime. Japanese (and Easy Japanese) is Open JTalk from the ``pyopenjtalk-plus`` wheel, whose
dictionary and voice ship inside the wheel — nothing is downloaded at run time; the other
languages are eSpeak NG (the Debian ``espeak-ng`` package), run as a program. Both are
optional: the core hub installs without them and answers 503 for audio when they are absent.

The output is 16-bit mono WAV at the engine's own rate (48 kHz for Open JTalk, 22.05 kHz
for eSpeak NG). No compressed format: no package here encodes one without a native codec
outside PyPI, and a controller plays WAV. ``bench/speech.py`` measures the real-time factor.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from typing import Any

from alertcommons.errors import AlertCommonsError

JAPANESE = ("ja-JP", "ja-JP-x-easy")
# eSpeak NG's voice for each language of the phrase table that is not Japanese.
ESPEAK_VOICES = {
    "en": "en-us",
    "en-US": "en-us",
    "zh-CN": "cmn",
    "zh-TW": "cmn",
    "ko-KR": "ko",
    "pt-BR": "pt-br",
    "vi-VN": "vi",
}
CHIME_NOTES = (523.25, 659.25, 783.99, 1046.5)  # C5 E5 G5 C6: rising before, falling after
NOTE_SECONDS = 0.28
PAUSE_SECONDS = 0.8


_READING = re.compile(r"（[\u3041-\u309fー]+）")


class SpeechUnavailable(AlertCommonsError):
    """The engine for this language is not installed (``pip install 'alertcommons[speech]'``
    for Japanese; ``apt-get install espeak-ng`` for the others)."""


@dataclass(frozen=True, slots=True)
class Audio:
    samples: bytes  # 16-bit little-endian mono PCM
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / 2 / self.rate

    def wav(self) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(self.rate)
            writer.writeframes(self.samples)
        return out.getvalue()


def engine_for(language: str) -> str:
    if language in JAPANESE or language.lower().startswith("ja"):
        return "openjtalk"
    return "espeak-ng"


def available(language: str) -> str | None:
    """Why ``language`` cannot be spoken here, or None when it can."""
    if engine_for(language) == "openjtalk":
        try:
            import numpy  # noqa: F401
            import pyopenjtalk  # noqa: F401
        except ImportError:
            return "Japanese speech needs the speech extra: pip install 'alertcommons[speech]'"
        return None
    if shutil.which("espeak-ng") is None:
        return "speech in this language needs eSpeak NG: apt-get install espeak-ng"
    return None


def pick_info(document: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The ``info`` in language ``lang``: exactly (``ja-JP-x-easy``), else the first whose
    language starts with it (``ja`` → ``ja-JP``, ``en`` → ``en-US``)."""
    infos = document.get("info") or []
    wanted = lang.lower()
    for exact in (True, False):
        for info in infos:
            language = str(info.get("language") or "en-US").lower()
            if language == wanted if exact else language.startswith(wanted + "-"):
                return dict(info)
    return None


def script(info: dict[str, Any]) -> str:
    """What the loudspeaker says for one ``info``: the headline, then the description and
    the instruction (each once, without repeating the headline)."""
    parts = [info.get("headline") or info.get("event"), info.get("description")]
    parts.append(info.get("instruction"))
    seen: list[str] = []
    for part in parts:
        # A reading in brackets after a name (Easy Japanese: 千代田区（ちよだく）) is for the
        # eye; the voice already says the name that way.
        text = " ".join(_READING.sub("", str(part or "")).split())
        if text and text not in seen:
            seen.append(text)
    joiner = "。" if engine_for(str(info.get("language") or "")) == "openjtalk" else ". "
    return joiner.join(s.rstrip("。.") for s in seen) + joiner.strip()


def speak(text: str, language: str) -> Audio:
    """``text`` as speech in ``language``; raises SpeechUnavailable."""
    reason = available(language)
    if reason:
        raise SpeechUnavailable(reason)
    if engine_for(language) == "openjtalk":
        return _openjtalk(text)
    return _espeak(text, ESPEAK_VOICES.get(language, language.split("-")[0].lower()))


def _openjtalk(text: str) -> Audio:
    import numpy as np
    import pyopenjtalk

    samples, rate = pyopenjtalk.tts(text)
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return Audio(pcm, int(rate))


def _espeak(text: str, voice: str) -> Audio:
    # Text on stdin, never on the command line: it cannot become an option or argument.
    result = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "--stdout"],
        input=text.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0 or not result.stdout:
        raise SpeechUnavailable(f"eSpeak NG failed for voice {voice}: {result.stderr[:200]!r}")
    with wave.open(io.BytesIO(result.stdout)) as reader:
        # eSpeak NG streams with an unknown length in the header; read what is there.
        rate = reader.getframerate()
    return Audio(result.stdout[44:], rate)


def chime(rate: int, *, rising: bool) -> bytes:
    import numpy as np

    notes = CHIME_NOTES if rising else tuple(reversed(CHIME_NOTES))
    length = int(rate * NOTE_SECONDS)
    t = np.arange(length) / rate
    envelope = np.exp(-3.0 * t / NOTE_SECONDS)  # a struck bell, not a beep
    tones = [np.sin(2 * np.pi * f * t) * envelope for f in notes]
    wave_ = np.concatenate(tones) * 0.5 * 32767
    return bytes(wave_.astype("<i2").tobytes())


def silence(rate: int, seconds: float) -> bytes:
    return b"\x00\x00" * int(rate * seconds)


def announcement(info: dict[str, Any], repeat: int = 2) -> Audio:
    """The whole broadcast for one ``info``: chime, the message ``repeat`` times, chime."""
    language = str(info.get("language") or "en-US")
    voice = speak(script(info), language)
    rate = voice.rate
    gap = silence(rate, PAUSE_SECONDS)
    body = (voice.samples + gap) * max(1, repeat)
    return Audio(chime(rate, rising=True) + gap + body + chime(rate, rising=False), rate)
