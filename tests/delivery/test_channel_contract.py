"""The contract every channel keeps: a unique name, settings checked with a clear error,
secrets masked when shown, and a typed result — never an exception — when the far end is
unreachable (which is a reason to retry, not to give up)."""

from __future__ import annotations

from typing import Any

import pytest

from alertcommons.delivery.channels import ChannelConfigError, builtin_channels
from alertcommons.delivery.outbound import LOOPBACK, OutboundPolicy
from alertcommons.delivery.result import RetryAfter
from tests.support.messages import message
from tests.support.server import free_port

pytestmark = pytest.mark.anyio

CLOSED = free_port()  # nothing listens here
UNREACHABLE: dict[str, dict[str, Any]] = {
    "webhook": {"url": f"http://127.0.0.1:{CLOSED}/x", "timeout_seconds": 2},
    "email": {
        "to": ["a@example.jp"],
        "smtp_host": "127.0.0.1",
        "smtp_port": CLOSED,
        "password": "s3cret",
        "username": "u",
    },
    "mqtt": {"host": "127.0.0.1", "port": CLOSED, "password": "s3cret", "username": "u"},
    "loudspeaker": {
        "host": "127.0.0.1",
        "port": CLOSED,
        "controller": "kanda-1",
        "password": "s3cret",
        "username": "u",
    },
}
MESSAGE = message(record={"alert": {"info": [{"headline": "見出し"}]}})


def test_every_builtin_channel_is_covered() -> None:
    assert set(builtin_channels()) == set(UNREACHABLE)


@pytest.mark.parametrize("name", sorted(UNREACHABLE))
async def test_channel_contract(name: str) -> None:
    channel = builtin_channels(OutboundPolicy.from_setting(LOOPBACK))[name]
    assert channel.name == name
    with pytest.raises(ChannelConfigError):
        channel.check_config({"url": 5, "to": "nobody", "host": 7, "port": "x"})
    config = channel.check_config(UNREACHABLE[name])
    shown = repr(channel.public_config(config))
    assert "s3cret" not in shown
    if "secret" in config:
        assert config["secret"] not in shown
    result = await channel.send(MESSAGE, config)
    assert isinstance(result, RetryAfter), result
    await channel.close()
