"""What an issuer has in force, municipality by municipality: evacuation orders, shelters and
headquarters. Read-only; the console's home shows it and compose starts from it.

One query for everything the issuer has in force (not one per municipality: a prefecture
holds dozens), grouped by the municipality each message names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alertcommons.hub import japan
from alertcommons.jp import evacuation, phrases, shelters
from alertcommons.jp.codes import CodeError, normalize, registry
from alertcommons.store import alerts as alert_queries
from alertcommons.store.engine import Store


@dataclass
class MunicipalityState:
    code: str  # canonical 5-digit code
    name: str
    orders: list[dict[str, Any]] = field(default_factory=list)  # japan.evacuation_orders
    evacuation_alert_id: str | None = None
    hazard: str | None = None  # of the highest order in force
    shelters: list[dict[str, Any]] = field(default_factory=list)
    headquarters: dict[str, Any] | None = None

    @property
    def code6(self) -> str:
        town = registry().municipalities.get(self.code)
        return town.code6 if town else self.code

    @property
    def name_en(self) -> str:
        return phrases.place_name(self.code, "en-US")

    @property
    def quiet(self) -> bool:
        return not (self.orders or self.shelters or self.headquarters)


def municipality_of(document: dict[str, Any]) -> str | None:
    """The municipality a message of ours names (its first JIS X 0402 geocode)."""
    for info in document.get("info", []) or []:
        for area in info.get("area", []) or []:
            for pair in area.get("geocode", []) or []:
                try:
                    code = normalize(str(pair.get("value") or ""))
                except CodeError:
                    continue
                if len(code) == 5:
                    return code
    return None


async def of_issuer(
    store: Store, sender: str | None, codes: list[str], status: str = "Actual"
) -> list[MunicipalityState]:
    """The state of each municipality in ``codes`` (5-digit), plus any other municipality the
    issuer has something in force for, in code order."""

    def load(connection: Any) -> list[tuple[Any, dict[str, Any]]]:
        rows = alert_queries.in_force(connection, sender=sender, status=status)
        return [(row, alert_queries.decode_json(row)) for row in rows if row.msg_type != "Cancel"]

    found = await store.read(load) if sender else []
    grouped: dict[str, list[tuple[Any, dict[str, Any]]]] = {code: [] for code in codes}
    for row, document in found:
        code = municipality_of(document)
        if code is not None:
            grouped.setdefault(code, []).append((row, document))
    states = []
    reg = registry()
    for code in sorted(grouped):
        town = reg.municipalities.get(code)
        name = f"{reg.prefectures[town.prefecture].name}{town.name}" if town else code
        state = MunicipalityState(code, name)
        in_force = grouped[code]  # newest first, as the query returns them
        current = next(((r, d) for r, d in in_force if evacuation.level_of(d) is not None), None)
        if current is not None:
            state.orders = japan.evacuation_orders(*current)
            state.evacuation_alert_id = current[0].id
            state.hazard = japan.hazard_of(current[1])
        state.shelters = japan.latest_shelters(
            [(r, d) for r, d in in_force if shelters.shelter_of(d) is not None]
        )
        state.shelters = [s for s in state.shelters if s.get("state") != "closed"]
        state.headquarters = japan.latest_headquarters(in_force)
        states.append(state)
    return states


async def orders_in_force(
    store: Store, code: str, sender: str | None, status: str = "Actual"
) -> tuple[list[evacuation.Standing], str | None]:
    """The issuer's orders in force for one municipality and the id of their message."""
    current = await japan.evacuation_in_force(store, code, sender, status)
    if current is None:
        return [], None
    return evacuation.orders_of(current[1]), current[0].id
