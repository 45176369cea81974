"""An alert in the forms other last-mile routes need: cell-broadcast text for carriers'
emergency alert mail (and, with the speech extra, audio for loudspeakers)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from alertcommons import pools, speech
from alertcommons.delivery import cellbroadcast
from alertcommons.hub import audio as hub_audio
from alertcommons.problems import NotFound, ServiceUnavailable
from alertcommons.store import alerts as alert_queries

from .alerts import OptionalPrincipal, _visible_row
from .deps import ServicesDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
audio_router = APIRouter(prefix="/api/v1/audio", tags=["alerts"])


@router.get(
    "/{alert_id}/cell-broadcast",
    summary="Cell-broadcast text per language (3GPP TS 23.041 pages and the short form)",
)
async def get_cell_broadcast(
    alert_id: str,
    hub: ServicesDep,
    caller: OptionalPrincipal,
    lang: Annotated[
        list[str] | None, Query(description="Only these CAP languages (e.g. ja-JP, en-US)")
    ] = None,
) -> dict[str, Any]:
    row = await _visible_row(hub, caller, alert_id)
    found = cellbroadcast.for_alert(alert_queries.decode_json(row), lang)
    if lang and not found:
        raise NotFound(f"alert '{alert_id}' has no text in {', '.join(lang)}")
    return found


# Synthesis is CPU work of a second or more; one at a time, off the event loop, so a burst of
# loudspeaker controllers fetching the same alert waits for the first result (then the cache).
_synthesis = threading.Lock()


def _cached(path: Path, info: dict[str, Any], repeat: int) -> bytes:
    with _synthesis:
        if path.exists():
            return path.read_bytes()
        data = speech.announcement(info, repeat).wav()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(path)  # whole files only: a reader never sees half of one
        return data


@router.get(
    "/{alert_id}/audio",
    summary="The alert spoken for loudspeakers: chime, message repeated, chime (audio/wav)",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def get_audio(
    alert_id: str,
    hub: ServicesDep,
    caller: OptionalPrincipal,
    lang: Annotated[str, Query(description="ja, en, ja-JP-x-easy, zh-TW, …")] = "ja",
    repeat: Annotated[int | None, Query(ge=1, le=5)] = None,
) -> Response:
    row = await _visible_row(hub, caller, alert_id)
    info = speech.pick_info(alert_queries.decode_json(row), lang)
    if info is None:
        raise NotFound(f"alert '{alert_id}' has no text in '{lang}'")
    language = str(info.get("language") or "en-US")
    reason = speech.available(language)
    if reason:
        raise ServiceUnavailable(reason)
    times = repeat or hub.settings.speech_repeat
    # Keyed by the alert's content hash: the same alert always has the same audio.
    path = hub.settings.data_dir / "audio" / f"{row.content_hash}.{language}.{times}.wav"
    data = await pools.run("speech", _cached, path, info, times)
    digest = hashlib.sha256(data).digest()
    return Response(
        content=data,
        media_type="audio/wav",
        headers={
            "ETag": f'"{digest.hex()}"',
            "Repr-Digest": f"sha-256=:{base64.b64encode(digest).decode()}:",
            "Content-Language": language,
            "Cache-Control": "public, max-age=300",
        },
    )


@audio_router.get(
    "/{name}.wav",
    summary="A loudspeaker announcement by its SHA-256, as a CAP resource names it",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def get_audio_file(name: str, hub: ServicesDep) -> Response:
    # Content-addressed: the name is the digest, so the answer never changes.
    path = hub_audio.audio_dir(hub.settings) / f"{name}.wav"
    if not hub_audio.NAME.match(name) or not path.is_file():
        raise NotFound(f"no announcement '{name}'")
    data = await asyncio.to_thread(path.read_bytes)
    return Response(
        content=data,
        media_type="audio/wav",
        headers={"ETag": f'"{name}"', "Cache-Control": "public, max-age=31536000, immutable"},
    )
