"""The confirmation's fingerprint (web/confirm_state.py): the same state built at another
moment — another minute, another day — has the same fingerprint, so a confirmation is not
refused for the clock alone; another state (a newer message referenced, another level,
another shelter state) has another, so Send now refuses what was not confirmed."""

from __future__ import annotations

from datetime import UTC, datetime

from alertcommons.jp import evacuation, shelters
from alertcommons.web.confirm_state import fingerprint

SENDER = "city.chiyoda.tokyo.jp"
EARLY = datetime(2026, 11, 29, 14, 59, 58, tzinfo=UTC)  # 23:59:58 in Japan
LATE = datetime(2026, 11, 29, 15, 1, 3, tzinfo=UTC)  # the next day there
ORDER = evacuation.Order(
    "13101",
    4,
    "flood",
    districts=(evacuation.District("神田地区"), evacuation.District("番町地区")),
)
IN_FORCE = ("evac-13101-a", "2026-11-29T20:00:00+09:00")


def test_the_clock_alone_does_not_change_it() -> None:
    for replaces in (None, IN_FORCE):
        early = evacuation.build(ORDER, SENDER, replaces=replaces, now=EARLY)
        late = evacuation.build(ORDER, SENDER, replaces=replaces, now=LATE)
        assert early.identifier != late.identifier and early.sent != late.sent
        assert fingerprint(early) == fingerprint(late)
    shelter = shelters.Shelter(
        "13101", "1", "九段小学校", "東京都千代田区九段南", 35.69, 139.75, "open", 600
    )
    assert fingerprint(shelters.build_shelter(shelter, SENDER, now=EARLY)) == fingerprint(
        shelters.build_shelter(shelter, SENDER, now=LATE)
    )
    assert fingerprint(
        shelters.build_headquarters("13101", "disaster", True, SENDER, now=EARLY)
    ) == fingerprint(shelters.build_headquarters("13101", "disaster", True, SENDER, now=LATE))


def test_another_state_changes_it() -> None:
    confirmed = fingerprint(evacuation.build(ORDER, SENDER, now=EARLY))
    newer = evacuation.build(ORDER, SENDER, replaces=IN_FORCE, now=EARLY)  # another's message
    higher = evacuation.build(
        evacuation.Order("13101", 5, "flood", districts=ORDER.districts), SENDER, now=EARLY
    )
    fewer = evacuation.build(
        evacuation.Order("13101", 4, "flood", districts=ORDER.districts[:1]), SENDER, now=EARLY
    )
    assert len({confirmed, fingerprint(newer), fingerprint(higher), fingerprint(fewer)}) == 4
    shelter = shelters.Shelter(
        "13101", "1", "九段小学校", "東京都千代田区九段南", 35.69, 139.75, "open", 600
    )
    full = shelters.Shelter(
        "13101", "1", "九段小学校", "東京都千代田区九段南", 35.69, 139.75, "full", 600
    )
    assert fingerprint(shelters.build_shelter(shelter, SENDER, now=EARLY)) != fingerprint(
        shelters.build_shelter(full, SENDER, now=EARLY)
    )
