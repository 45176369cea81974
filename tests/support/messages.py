"""A delivery's message as the dispatcher hands it to a channel, for channel tests."""

from __future__ import annotations

from typing import Any

from alertcommons.delivery.message import Message


def message(**fields: Any) -> Message:
    """An actual, immediate, severe alert for 13101; ``fields`` replace what a test needs."""
    defaults: dict[str, Any] = {
        "alert_id": "A1",
        "delivery_id": "D1",
        "sender": "s",
        "identifier": "i",
        "msg_type": "Alert",
        "status": "Actual",
        "urgency": "Immediate",
        "severity": "Severe",
        "areas": ("13101",),
        "cap_xml": b"<alert/>",
    }
    return Message(**{**defaults, **fields})
