"""Speech synthesis speed: seconds of audio per second of synthesis (goal: at least 10).

Every standard message type in every language of the phrase table, synthesized once each
(the engine warmed up first: Open JTalk loads its dictionary on first use). Prints one JSON
object per engine and language. Run: ``python -m bench.speech``.
"""

from __future__ import annotations

import json
import platform
import time
from typing import Any

from alertcommons import speech
from alertcommons.cap import to_json
from alertcommons.jp import evacuation, national, phrases, shelters

PREVIOUS = ("previous", "2026-11-29T09:00:00+09:00")


def _documents() -> list[dict[str, Any]]:
    alerts = [
        evacuation.build(evacuation.Order("13101", level, "flood"), "x") for level in (3, 4, 5)
    ]
    alerts.append(
        shelters.build_shelter(
            shelters.Shelter(
                "13101",
                "s1",
                "神田小学校",
                "千代田区神田1-1",
                35.69,
                139.75,
                "open",
                hazards=("flood",),
            ),
            "x",
        )
    )
    alerts.append(shelters.build_headquarters("13101", "disaster", True, "x"))
    alerts += [national.build("x", kind, ["13"]) for kind in national.KINDS]
    return [to_json(alert) for alert in alerts]


def main() -> None:
    documents = _documents()
    results: dict[str, Any] = {}
    for language in phrases.LANGUAGES:
        reason = speech.available(language)
        if reason:
            results[language] = {"skipped": reason}
            continue
        texts = [
            speech.script(info)
            for document in documents
            for info in document["info"]
            if info["language"] == language
        ]
        speech.speak(texts[0], language)  # warm-up: dictionaries, voices
        audio = 0.0
        start = time.perf_counter()
        for text in texts:
            audio += speech.speak(text, language).seconds
        elapsed = time.perf_counter() - start
        results[language] = {
            "engine": speech.engine_for(language),
            "messages": len(texts),
            "audio_seconds": round(audio, 1),
            "synthesis_seconds": round(elapsed, 2),
            "realtime_factor": round(audio / elapsed, 1),
            "goal_met": audio / elapsed >= 10,
        }
    print(
        json.dumps(
            {"benchmark": "speech", "cpu": platform.processor() or platform.machine(), **results},
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
