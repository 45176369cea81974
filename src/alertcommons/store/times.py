"""Times in API answers: in the offset of the alert they belong to.

The store keeps every time in UTC (``store/types.py``); an issuer writes its own offset
(Japan: +09:00) in ``sent``. An answer that gave ``sent`` as ``…+09:00`` beside ``expires`` as
``…+00:00`` made a reader convert one of them in their head. Every time of an alert —
``effective``, ``expires``, ``received_at``, and the times derived from them, such as an
evacuation order's ``expires`` — is shown in the offset of that alert's ``sent``, through
:func:`alert_time`, the one place that formats them.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from alertcommons.cap.values import CapValueError, parse_datetime


def offset_of(sent_text: str | None) -> tzinfo:
    """The UTC offset an alert was written in (UTC if its ``sent`` cannot be read)."""
    if not sent_text:
        return UTC
    try:
        zone = parse_datetime(sent_text.strip()).tzinfo
    except CapValueError:
        return UTC
    return zone or UTC


def alert_time(moment: datetime | None, sent_text: str | None) -> str | None:
    """``moment`` as ISO 8601 in the offset of the alert whose ``sent`` is ``sent_text``."""
    if moment is None:
        return None
    return moment.astimezone(offset_of(sent_text)).isoformat()
