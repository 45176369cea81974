"""What the hub admits beyond CAP validity: fresh times, bounded text and geometry, and no
``info``-less actual alerts.

CAP 1.2 lets an alert be years old, megabytes of headline, or an actual Alert with no
``info``; a warning hub must not: a stale or far-future alert is replayed or mistimed, an
unbounded text burns CPU in every channel that renders it, a polygon of tens of thousands of
vertices costs seconds of geometry, and an ``info``-less actual alert has no area to check and
no expiry, so it would reach every receiver without an area filter for ever.

Each finding is a :class:`~alertcommons.cap.reader.Problem` with its element path, answered
as 422 with the CAP validation errors. The limits are documented in docs/operations.md
("Security").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alertcommons.cap.fields import FIELDS, Struct
from alertcommons.cap.model import Alert
from alertcommons.cap.reader import Problem
from alertcommons.cap.values import CapValueError, parse_datetime

# Characters per element, generous next to real alerts (CAP suggests headlines under 160):
# enough for any JMA report the hub converts, far below what makes rendering expensive.
TEXT_LIMITS: dict[str, int] = {
    "identifier": 256,
    "sender": 256,
    "sent": 64,
    "source": 1_000,
    "restriction": 4_000,
    "addresses": 10_000,
    "code": 256,
    "note": 10_000,
    "references": 100_000,
    "incidents": 10_000,
    "language": 64,
    "event": 256,
    "audience": 1_000,
    "effective": 64,
    "onset": 64,
    "expires": 64,
    "senderName": 256,
    "headline": 1_000,
    "description": 50_000,
    "instruction": 20_000,
    "web": 2_000,
    "contact": 1_000,
    "valueName": 256,
    "value": 4_000,
    "resourceDesc": 1_000,
    "mimeType": 256,
    "size": 32,
    "uri": 2_000,
    "digest": 256,
    "areaDesc": 4_000,
    "circle": 200,
    "altitude": 32,
    "ceiling": 32,
}
DEFAULT_TEXT_LIMIT = 256  # enumerations (status, urgency …) and anything not listed above
UNBOUNDED = frozenset({"derefUri", "polygon"})  # bounded by the body size / vertex count
MAX_VERTICES = 10_000  # polygon vertices in one alert, all polygons together
MAX_SHAPES = 100  # polygons and circles in one alert
NO_INFO_ALLOWED = ("Ack", "Error", "Cancel")


@dataclass(frozen=True, slots=True)
class Admission:
    """Time limits, in seconds; 0 turns a check off."""

    max_sent_age: float = 24 * 3600.0
    max_future_skew: float = 300.0

    @staticmethod
    def limits(alert: Alert) -> list[Problem]:
        """Size limits: cheap, so checked before anything costly is done with the alert."""
        found: list[Problem] = []
        _text_limits(alert, "alert", found)
        _geometry_limits(alert, found)
        return found

    def problems(self, alert: Alert, now: datetime | None = None) -> list[Problem]:
        """Times and the info rule, for a valid alert."""
        found: list[Problem] = []
        if not alert.infos and alert.status == "Actual" and alert.msg_type not in NO_INFO_ALLOWED:
            found.append(
                Problem(
                    "alert/info",
                    f"an Actual {alert.msg_type} needs at least one <info>: without one it has"
                    " no area and never expires (only Ack, Error and Cancel may omit it)",
                )
            )
        self._times(alert, now or datetime.now(UTC), found)
        return found

    def _times(self, alert: Alert, now: datetime, found: list[Problem]) -> None:
        sent = _moment(alert.sent)
        if sent is not None:
            if self.max_sent_age and now - sent > timedelta(seconds=self.max_sent_age):
                found.append(
                    Problem(
                        "alert/sent",
                        f"sent {alert.sent} is more than {_span(self.max_sent_age)} ago"
                        " (ALERTCOMMONS_MAX_SENT_AGE_SECONDS)",
                    )
                )
            if self.max_future_skew and sent - now > timedelta(seconds=self.max_future_skew):
                found.append(
                    Problem(
                        "alert/sent",
                        f"sent {alert.sent} is more than {_span(self.max_future_skew)} in the"
                        " future; check the sending clock (ALERTCOMMONS_MAX_FUTURE_SKEW_SECONDS)",
                    )
                )
        for number, info in enumerate(alert.infos, start=1):
            expires = _moment(info.expires)
            if expires is not None and expires <= now:
                found.append(
                    Problem(
                        f"alert/info[{number}]/expires",
                        f"expires {info.expires} has already passed",
                    )
                )


def _moment(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        return parse_datetime(text.strip())
    except CapValueError:
        return None  # reported by validation


def _span(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds:g} s"


def _text_limits(struct: Struct, path: str, found: list[Problem]) -> None:
    for spec in FIELDS[type(struct)]:
        value = getattr(struct, spec.attr)
        items = value if spec.many else [value]
        for number, item in enumerate(items, start=1):
            where = f"{path}/{spec.xml}[{number}]" if spec.many else f"{path}/{spec.xml}"
            if spec.child is not None:
                _text_limits(item, where, found)
            elif isinstance(item, str) and spec.xml not in UNBOUNDED:
                limit = TEXT_LIMITS.get(spec.xml, DEFAULT_TEXT_LIMIT)
                if len(item) > limit:
                    found.append(
                        Problem(
                            where, f"<{spec.xml}> is {len(item):,} characters; at most {limit:,}"
                        )
                    )


def _geometry_limits(alert: Alert, found: list[Problem]) -> None:
    vertices = shapes = 0
    for info in alert.infos:
        for area in info.areas:
            shapes += len(area.polygons) + len(area.circles)
            vertices += sum(len(text.split()) for text in area.polygons)
    if shapes > MAX_SHAPES:
        found.append(Problem("alert/info", f"{shapes} polygons and circles; at most {MAX_SHAPES}"))
    if vertices > MAX_VERTICES:
        found.append(
            Problem("alert/info", f"{vertices:,} polygon vertices in all; at most {MAX_VERTICES:,}")
        )
