"""The spoken announcement of a hub-built message, referenced from its CAP as a ``resource``.

Before the hub signs a message it builds — evacuation, shelter, headquarters (the API's
``/api/v1/jp`` routes), or composed in the console — it
synthesizes the loudspeaker announcement in Japanese and English, keeps each WAV under its
SHA-256 (``<data dir>/audio/sha256/<hex>.wav``, served at ``/api/v1/audio/<hex>.wav``) and
adds a ``resource`` to that ``info``: ``mimeType`` audio/wav, ``size``, ``uri`` and
``digest`` — SHA-1, as CAP 1.2 defines the element. The signature then covers the audio too.

What it costs: about a second of Open JTalk per message. National warnings are never held
for it (J-Alert's loudspeakers start within seconds; their controllers fetch the audio from
``/api/v1/alerts/{id}/audio``), nor is a Cancel. Without a speech engine, or with
``ALERTCOMMONS_SPEECH_IN_CAP=0``, nothing is added.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path

from alertcommons import pools, speech
from alertcommons.cap import to_json
from alertcommons.cap.model import Alert, Resource
from alertcommons.jp.national import requests_activation
from alertcommons.settings import Settings

SPOKEN = ("ja-JP", "en-US")  # the other languages are spoken on request, at /audio
NAME = re.compile(r"^[0-9a-f]{64}$")


def audio_dir(settings: Settings) -> Path:
    return settings.data_dir / "audio" / "sha256"


async def attach(alert: Alert, settings: Settings) -> Alert:
    """``alert`` with a resource per spoken language, or as it is when not to be spoken."""
    if not settings.speech_in_cap or alert.msg_type == "Cancel" or requests_activation(alert):
        return alert
    spoken = tuple(language for language in SPOKEN if speech.available(language) is None)
    if not spoken:
        return alert
    return await pools.run("speech", _attach, alert, settings, spoken)


def _attach(alert: Alert, settings: Settings, spoken: tuple[str, ...]) -> Alert:
    document = to_json(alert)
    infos = []
    for info, data in zip(alert.infos, document.get("info", []), strict=True):
        if info.language not in spoken:
            infos.append(info)
            continue
        wav = speech.announcement(data, settings.speech_repeat).wav()
        name = hashlib.sha256(wav).hexdigest()
        _keep(audio_dir(settings) / f"{name}.wav", wav)
        resource = Resource(
            resource_desc=f"Loudspeaker announcement ({info.language})",
            mime_type="audio/wav",
            size=str(len(wav)),
            uri=f"{settings.public_base}/api/v1/audio/{name}.wav",
            digest=hashlib.sha1(wav).hexdigest(),  # CAP 1.2 defines <digest> as SHA-1
        )
        infos.append(replace(info, resources=[*info.resources, resource]))
    return replace(alert, infos=infos)


def _keep(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)  # whole files only: a reader never sees half of one
