"""What a change of evacuation information does, in words: raises from the ward's level,
orders that stay, lifts with what remains, in Japanese and English."""

from __future__ import annotations

from alertcommons.jp.changes import changes
from alertcommons.jp.evacuation import District, Standing

CHIYODA = "13101"
T0, T1 = "2026-11-30T02:00:00+09:00", "2026-11-30T03:00:00+09:00"


def _order(district: str | None, level: int, hazard: str = "flood", since: str = T0) -> Standing:
    return Standing(District(district) if district else None, level, hazard, since)


def _lines(before: list[Standing], after: list[Standing], lang: str = "ja") -> list[str]:
    return [c.text(CHIYODA, lang) for c in changes(before, after)]


def test_a_district_raised_inside_a_ward_order() -> None:
    before = [_order(None, 3)]
    after = [_order(None, 3), _order("番町地区", 4, since=T1)]
    assert _lines(before, after) == ["番町地区: レベル3 → レベル4", "千代田区全域: レベル3 のまま"]
    assert _lines(before, after, "en") == [
        "番町地区: level 3 → level 4",
        "all of Chiyoda-ku: stays at level 3",
    ]


def test_a_new_order_and_a_changed_hazard() -> None:
    assert _lines([], [_order(None, 4)]) == ["千代田区全域: なし → レベル4"]
    assert _lines([_order("神田地区", 3)], [_order("神田地区", 3, "landslide")]) == [
        "神田地区: レベル3（洪水） → レベル3（土砂災害）"
    ]


def test_lifting_one_district_and_everything() -> None:
    before = [_order(None, 3), _order("神田地区", 4), _order("番町地区", 4)]
    lifted = changes(before, [_order(None, 3), _order("番町地区", 4)])
    assert [(c.district, c.kind) for c in lifted] == [
        ("神田地区", "lifted"),
        (None, "stays"),
        ("番町地区", "stays"),
    ]
    assert lifted[0].text(CHIYODA, "ja") == "神田地区: レベル4 → 解除（全域の レベル3 は継続）"
    assert [c.kind for c in changes(before, [])] == ["lifted"] * 3
    assert changes(before, [])[0].text(CHIYODA, "en") == "all of Chiyoda-ku: level 3 → lifted"
