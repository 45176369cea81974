"""What a channel says after trying to deliver: delivered, retry later, or give up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivered:
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """A passing failure: try again, no sooner than ``seconds`` (if the receiver said so)."""

    reason: str
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class FailedForGood:
    """No retry can help (the receiver refused for good); ``disable`` stops the endpoint."""

    reason: str
    disable: bool = False


DeliveryResult = Delivered | RetryAfter | FailedForGood
