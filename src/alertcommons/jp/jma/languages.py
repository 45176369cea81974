"""The report in the phrase table's other languages (Chinese, Korean, Portuguese, Vietnamese,
Easy Japanese): the event named per kind and grade, where the full Japanese text is, and the
areas by municipality in the reader's script. English has its own, fuller twin
(:mod:`.english`); the JMA's own text stays Japanese."""

from __future__ import annotations

from dataclasses import replace

from alertcommons.cap.model import Alert, Area, Info
from alertcommons.cap.writer import to_xml
from alertcommons.jp import phrases
from alertcommons.jp.jma.common import Kind

# Translations repeat every area of the report; a report naming every municipality of Japan
# would grow eightfold. They never make a report too large to publish: past this size the
# last languages are left out, the Japanese and English never.
TRANSLATION_BUDGET = 200_000
ENGLISH = "en-US"
# A kind without phrases of its own is named as its family is.
_FAMILY = {"long-period": "earthquake"}


def translations(infos: list[Info], kind: Kind, *, cancel: bool) -> list[Info]:
    found = []
    table = phrases.PHRASES["jma"]
    for language in phrases.LANGUAGES:
        if language in (phrases.JA, ENGLISH):
            continue
        for info in infos:
            name = (
                kind.key
                if f"event.{kind.key}" in table or kind.graded
                else _FAMILY.get(kind.key, kind.key)
            )
            key = f"event.{name}.{info.severity}" if kind.graded else f"event.{name}"
            if key not in table:
                continue
            event = phrases.phrase("jma", key, language)
            details = phrases.phrase("jma", "details.cancel" if cancel else "details", language)
            found.append(
                replace(
                    info,
                    language=language,
                    event=event,
                    headline=event,
                    description=details,
                    areas=[_area_in(area, language) for area in info.areas],
                )
            )
    return found


def within_budget(alert: Alert, kept_infos: int) -> tuple[Alert, list[str]]:
    """``alert`` with the last translations left out while it is over the budget; the first
    ``kept_infos`` (Japanese and English) always stay."""
    if len(to_xml(alert)) <= TRANSLATION_BUDGET:
        return alert, []
    kept = [lang for lang in phrases.LANGUAGES if lang not in (phrases.JA, ENGLISH)]
    left_out: list[str] = []
    while kept:
        left_out.insert(0, kept.pop())
        infos = alert.infos[:kept_infos] + [
            i for i in alert.infos[kept_infos:] if i.language in kept
        ]
        alert = replace(alert, infos=infos)
        if len(to_xml(alert)) <= TRANSLATION_BUDGET:
            break
    return alert, [f"left out {', '.join(left_out)}: over {TRANSLATION_BUDGET:,} bytes with them"]


def _area_in(area: Area, language: str) -> Area:
    codes = [g.value for g in area.geocodes if g.value_name == "JIS X 0402" and g.value]
    if phrases.kanji_script(language) or not codes:
        return area
    names = [phrases.place_name(code, language) for code in codes[:20]]
    more = " …" if len(codes) > 20 else ""
    return replace(area, area_desc=phrases.places_separator(language).join(names) + more)
