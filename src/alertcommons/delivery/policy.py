"""Who goes first, and when to try again."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

_URGENCY = {"Immediate": 0, "Expected": 1, "Future": 2, "Unknown": 2, "Past": 3}
_SEVERITY = {"Extreme": 0, "Severe": 1, "Moderate": 2, "Unknown": 2, "Minor": 3}

BASE_SECONDS = 2.0
CAP_SECONDS = 300.0


ACTIVATION_PRIORITY = -1  # a national warning that starts loudspeakers goes before all else


def priority(urgency: str | None, severity: str | None, *, activation: bool = False) -> int:
    """Lower is sooner: -1 for national warnings that start loudspeakers (J-Alert), 0 for
    any other Immediate + Extreme alert (tsunami, EEW)."""
    if activation:
        return ACTIVATION_PRIORITY
    return _URGENCY.get(urgency or "Unknown", 2) + _SEVERITY.get(severity or "Unknown", 2)


def next_attempt(
    attempts: int, retry_after: float | None, now: datetime, base: float = BASE_SECONDS
) -> datetime:
    """Exponential backoff with jitter (2 s, 4 s, 8 s … at most 5 min), or what the
    receiver asked for if that is later."""
    delay = min(base * 2 ** max(attempts - 1, 0), CAP_SECONDS)
    delay *= random.uniform(0.5, 1.5)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)
