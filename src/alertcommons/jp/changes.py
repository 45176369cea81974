"""What a change of evacuation information does, in words an officer checks before sending.

The hub holds a municipality's orders as one state; an officer changes part of it. Before
anything goes out the console says, order by order, what changes and what stays:
「番町地区: レベル3 → レベル4」「千代田区全域: レベル3 のまま」. A district inside a
whole-municipality order already stands at that order's level, so a district newly named at a
higher level reads as a raise from the ward's level, not as "new".
"""

from __future__ import annotations

from dataclasses import dataclass

from alertcommons.jp import phrases
from alertcommons.jp.codes import registry
from alertcommons.jp.evacuation import HAZARDS, Standing

# kind: "raised"/"lowered"/"changed" (hazard only), "new", "stays", "lifted"
KINDS = ("new", "raised", "lowered", "changed", "stays", "lifted")


@dataclass(frozen=True, slots=True)
class Change:
    district: str | None  # None: the whole municipality
    kind: str
    before: int | None  # the level it stood at (a district: its own, else the ward's)
    after: int | None  # None: lifted (or, for a district, back to the ward's level)
    hazard_before: str | None
    hazard_after: str | None
    after_whole: int | None = None  # a lifted district's level left by the ward-wide order

    def text(self, municipality: str, lang: str) -> str:
        """One line in ``lang`` ("ja" or "en")."""
        where = self.where(municipality, lang)
        before = _level(self.before, self.hazard_before, lang, self._hazards_differ)
        after = _level(self.after, self.hazard_after, lang, self._hazards_differ)
        if self.kind == "stays":
            return f"{where}: {before} のまま" if lang == "ja" else f"{where}: stays at {before}"
        if self.kind == "lifted":
            if lang == "ja":
                rest = f"（全域の レベル{self.after_whole} は継続）" if self.after_whole else ""
                return f"{where}: {before} → 解除{rest}"
            rest = f" (the whole-area level {self.after_whole} stays)" if self.after_whole else ""
            return f"{where}: {before} → lifted{rest}"
        none = "なし" if lang == "ja" else "none"
        return f"{where}: {before if self.before else none} → {after}"

    @property
    def _hazards_differ(self) -> bool:
        return bool(self.hazard_before and self.hazard_after) and (
            self.hazard_before != self.hazard_after
        )

    def where(self, municipality: str, lang: str) -> str:
        if self.district is not None:
            return self.district
        if lang != "ja":  # romaji from the registry ("Chiyoda-ku, Tokyo" -> "Chiyoda-ku")
            return f"all of {phrases.place_name(municipality, 'en-US').split(',')[0]}"
        town = registry().municipalities.get(municipality)
        return f"{town.name if town else municipality}全域"


def _level(level: int | None, hazard: str | None, lang: str, with_hazard: bool) -> str:
    if level is None:
        return "なし" if lang == "ja" else "none"
    word = f"レベル{level}" if lang == "ja" else f"level {level}"
    if with_hazard and hazard in HAZARDS:
        name = HAZARDS[hazard][0 if lang == "ja" else 1]
        word += f"（{name}）" if lang == "ja" else f" ({name})"
    return word


def changes(before: list[Standing], after: list[Standing]) -> list[Change]:
    """Order by order, from the state in force to the state a message sets (``after`` empty:
    everything lifted). Changes first, then what stays; whole municipality before districts."""
    was = {o.key: o for o in before}
    now = {o.key: o for o in after}
    whole_before = was.get(None)
    whole_after = now.get(None)
    found: list[Change] = []
    for key in list(dict.fromkeys([*was, *now])):
        old, new = was.get(key), now.get(key)
        if new is None and old is not None:
            left = whole_after.level if key is not None and whole_after else None
            found.append(Change(key, "lifted", old.level, None, old.hazard, None, left))
            continue
        assert new is not None
        # A district with no order of its own stood at the whole municipality's level.
        inherited = whole_before if old is None and key is not None else None
        base = old or inherited
        if base is None or (old is None and (base.level, base.hazard) == (new.level, new.hazard)):
            found.append(Change(key, "new", None, new.level, None, new.hazard))
        elif (base.level, base.hazard) == (new.level, new.hazard) and old is not None:
            found.append(Change(key, "stays", old.level, new.level, old.hazard, new.hazard))
        else:
            kind = (
                "raised"
                if new.level > base.level
                else "lowered"
                if new.level < base.level
                else "changed"
            )
            found.append(Change(key, kind, base.level, new.level, base.hazard, new.hazard))
    order = {kind: n for n, kind in enumerate(KINDS)}
    found.sort(key=lambda c: (c.kind == "stays", c.district is not None, order[c.kind]))
    return found
