"""One alert as a channel sends it: the same stable id on every attempt, to every endpoint.

A thousand endpoints of one alert share one body per format: each body is rendered once per
alert (:meth:`Message.rendered`) and the per-delivery part (``delivery_id``) is spliced into
the cached bytes, not re-encoded with the whole record each time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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
    # bodies rendered for this alert, by format: shared by every delivery's copy of the
    # message (the same dict object), so each format is rendered once per alert
    renders: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def for_delivery(self, delivery_id: str) -> Message:
        """This alert's message for one delivery: a cheap copy sharing the rendered bodies."""
        copy = object.__new__(Message)
        for name in _SLOTS:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, "delivery_id", delivery_id)
        return copy

    def rendered(self, body_format: str, render: Callable[[Message], dict[str, Any]]) -> bytes:
        """``{"delivery_id": …, **render(self)}`` as JSON, with ``render`` run and its result
        encoded once per alert: the same bytes as encoding the whole document each time."""
        cached = self.renders.get(body_format)
        if cached is None:
            cached = json.dumps(render(self), ensure_ascii=False).encode()
            self.renders[body_format] = cached
        head = b'{"delivery_id": ' + json.dumps(self.delivery_id, ensure_ascii=False).encode()
        if cached == b"{}":
            return head + b"}"
        return head + b", " + cached[1:]

    def json_body(self) -> bytes:
        return self.rendered("json", _record)


def _record(message: Message) -> dict[str, Any]:
    # a record's own "delivery_id" (there is none today) would be overridden, as before
    return {key: value for key, value in message.record.items() if key != "delivery_id"}


_SLOTS = tuple(name for name in Message.__slots__ if name != "delivery_id")
