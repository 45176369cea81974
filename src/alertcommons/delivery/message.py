"""One alert as a channel sends it: the same stable id on every attempt, to every endpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Message:
    alert_id: str  # the stable id receivers de-duplicate on (with sender and identifier)
    delivery_id: str  # this endpoint's delivery, for acknowledgements
    sender: str
    identifier: str
    msg_type: str
    status: str
    urgency: str | None
    severity: str | None
    areas: tuple[str, ...]
    cap_xml: bytes  # signed, exactly as stored
    record: dict[str, Any] = field(default_factory=dict)  # the API's JSON record of the alert
    # when the hub stored the alert (epoch seconds), for the delivery's latency: the hub's
    # own bookkeeping, kept out of ``record`` so it never reaches a receiver
    received_at: float | None = None

    def json_body(self) -> bytes:
        return json.dumps(
            {"delivery_id": self.delivery_id, **self.record}, ensure_ascii=False
        ).encode()
