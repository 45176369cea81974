"""Channels: one module each, one small protocol. Built-ins are listed here, explicitly.

A channel turns a :class:`~alertcommons.delivery.message.Message` into bytes on a wire and
answers with a :class:`~alertcommons.delivery.result.DeliveryResult`. It never touches the
store: the dispatcher records what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from alertcommons.delivery.message import Message
from alertcommons.delivery.outbound import OutboundPolicy
from alertcommons.delivery.result import DeliveryResult
from alertcommons.errors import AlertCommonsError


class ChannelConfigError(AlertCommonsError):
    """An endpoint's settings do not suit its channel; the message names the setting."""


class Channel(Protocol):
    name: ClassVar[str]

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Validate and normalize an endpoint's settings; raise ChannelConfigError."""

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The settings with secrets masked, for showing back."""

    async def send(self, message: Message, config: dict[str, Any]) -> DeliveryResult: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class Outgoing:
    """One delivery handed to a channel's :meth:`ManySender.send_many`."""

    message: Message  # the alert's, shared by every delivery of it
    delivery_id: str
    config: dict[str, Any]
    token: Any  # the sender's own, handed back with the result
    started: float = 0.0  # time.perf_counter() as its attempt began: set by the channel
    urgent: bool = False  # goes ahead of the others queued for the same receiver


Finished = Callable[[Outgoing, DeliveryResult], None]


class ManySender(Protocol):
    """A channel that sends a batch without a task per delivery (webhooks: a send loop per
    connection). ``send_many`` starts them all and returns; ``finished`` is then called on
    the loop exactly once per delivery, with its result."""

    def send_many(self, outgoing: list[Outgoing], finished: Finished) -> None: ...


def masked(config: dict[str, Any], *secrets: str) -> dict[str, Any]:
    """A channel's settings fit to show back: each named secret replaced by an ellipsis."""
    return {key: "…" if key in secrets else value for key, value in config.items()}


def credentials(config: dict[str, Any]) -> dict[str, str]:
    """The optional ``username`` and ``password`` of a channel's settings, as strings."""
    return {key: str(config[key]) for key in ("username", "password") if key in config}


def checked_host(policy: OutboundPolicy, channel: str, key: str, host: str) -> str:
    """``host`` if registering it is allowed; else the reason, as a ChannelConfigError."""
    refusal = policy.refusal(host)
    if refusal:
        raise ChannelConfigError(f"{channel} '{key}': {refusal}")
    return host


def builtin_channels(policy: OutboundPolicy | None = None) -> dict[str, Channel]:
    """The built-in channels, connecting only where ``policy`` allows (default: public only)."""
    from alertcommons.delivery.channels.email import EmailChannel
    from alertcommons.delivery.channels.loudspeaker import LoudspeakerChannel
    from alertcommons.delivery.channels.mqtt import MQTTChannel
    from alertcommons.delivery.channels.webhook import WebhookChannel

    channels: dict[str, Channel] = {}
    allowed = policy or OutboundPolicy()
    for channel in (
        WebhookChannel(allowed),
        EmailChannel(allowed),
        MQTTChannel(allowed),
        LoudspeakerChannel(allowed),
    ):
        if channel.name in channels:
            raise ValueError(f"two channels are named {channel.name!r}")
        channels[channel.name] = channel
    return channels
