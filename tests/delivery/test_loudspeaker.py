"""The loudspeaker channel against the real Mosquitto on 127.0.0.1:1883: a simulated
disaster-radio controller that acknowledges the broadcast, and one that never does — the
first is delivered, the second retried and reported, never taken for delivered."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from alertcommons import speech
from alertcommons.delivery.channels.loudspeaker import LoudspeakerChannel
from alertcommons.delivery.dispatcher import DispatchSettings
from alertcommons.delivery.message import Message
from alertcommons.delivery.outbound import LOOPBACK, OutboundPolicy
from alertcommons.delivery.result import Delivered, RetryAfter
from tests.support.hub import Hub
from tests.support.messages import message
from tests.support.services import need

pytestmark = pytest.mark.anyio


class Controller:
    """A disaster-radio controller on the broker: records each command; answers it (the
    broadcast started) only if ``acknowledges``."""

    def __init__(self, prefix: str, name: str, *, acknowledges: bool) -> None:
        self.commands: list[dict[str, Any]] = []
        self.acknowledges = acknowledges
        ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            f"{prefix}/activate/{name}", qos=1
        )
        self.client.on_subscribe = lambda c, u, mid, rc, p: ready.set()
        self.client.on_message = self._command
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        assert ready.wait(5)

    def _command(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        command = json.loads(message.payload)
        self.commands.append(command)
        if self.acknowledges:
            answer = {"activation_id": command["activation_id"], "started": True}
            client.publish(command["reply_to"], json.dumps(answer), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def prefix() -> Iterator[str]:
    need("Mosquitto", "127.0.0.1", 1883)
    yield f"test-{uuid.uuid4().hex[:8]}"


def _message(delivery_id: str) -> Message:
    info = {
        "language": "ja-JP",
        "event": "避難指示",
        "headline": "【警戒レベル4】避難指示（洪水） 東京都千代田区全域",
        "instruction": "危険な場所から全員避難してください。",
    }
    return message(
        delivery_id=delivery_id,
        sender="city.chiyoda.tokyo.jp",
        identifier="evac-1",
        record={"alert": {"info": [info]}, "expires": None},
    )


async def test_acknowledged_is_delivered_silent_is_retried(prefix: str) -> None:
    channel = LoudspeakerChannel(OutboundPolicy.from_setting(LOOPBACK))
    speaking = Controller(prefix, "kanda", acknowledges=True)
    silent = Controller(prefix, "bancho", acknowledges=False)
    try:
        base = {"port": 1883, "topic_prefix": prefix, "ack_seconds": 0.5, "repeat": 3}
        config = channel.check_config({**base, "controller": "kanda"})
        result = await channel.send(_message("D1"), config)
        assert result == Delivered("broadcast started")
        (command,) = speaking.commands
        assert command["command"] == "activate" and command["activation_id"] == "D1"
        assert command["priority"] == "high" and command["repeat"] == 3
        assert command["text"].startswith("【警戒レベル4】避難指示")
        assert command["audio"]["path"] == "/api/v1/alerts/A1/audio?lang=ja-JP&repeat=3"

        config = channel.check_config({**base, "controller": "bancho"})
        result = await channel.send(_message("D2"), config)
        assert isinstance(result, RetryAfter)
        assert result.reason == "the controller did not acknowledge within 0.5 s"
        assert [c["activation_id"] for c in silent.commands] == ["D2"]
    finally:
        speaking.stop()
        silent.stop()
        await channel.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_through_the_hub_delivered_and_reported(hub: Hub, prefix: str) -> None:
    hub.services.dispatcher.settings = DispatchSettings(retry_base_seconds=0.05, poll_seconds=0.05)
    speaking = Controller(prefix, "kanda", acknowledges=True)
    silent = Controller(prefix, "bancho", acknowledges=False)
    try:
        city = await hub.chiyoda()
        radio = await hub.org("防災行政無線", None, [], kind="receiver")
        endpoints = {}
        for controller in ("kanda", "bancho"):
            body = {
                "channel": "loudspeaker",
                "port": 1883,
                "topic_prefix": prefix,
                "controller": controller,
                "ack_seconds": 0.3,
                "audio_base_url": "http://hub",
                "filter": {"areas": ["13101"]},
            }
            created = await hub.client.post(
                "/api/v1/endpoints", json=body, headers=radio["headers"]
            )
            assert created.status_code == 201, created.text
            endpoints[created.json()["id"]] = controller
        issued = await hub.evacuate(city)
        alert_id = issued.json()["id"]
        path = f"/api/v1/alerts/{alert_id}/deliveries"
        state: dict[str, dict[str, Any]] = {}

        for _ in range(200):
            items = (await hub.client.get(path, headers=hub.admin)).json()["items"]
            state.update({endpoints[i["endpoint_id"]]: i for i in items})
            bancho = state["bancho"]
            # between attempts: a retry's "sending" (its 0.3 s wait for the ack) is no state
            # to assert on
            retried = bancho["attempts"] >= 2 and bancho["state"] == "pending"
            if state["kanda"]["state"] == "delivered" and retried:
                break
            await asyncio.sleep(0.05)
        assert state["kanda"]["state"] == "delivered"
        # Unacknowledged: retried, and the reason is there for the operator to see.
        assert state["bancho"]["state"] == "pending"
        assert "did not acknowledge" in str(state["bancho"]["last_error"])
        assert len(silent.commands) >= 2 and len(speaking.commands) == 1
        command = speaking.commands[0]
        assert command["alert_id"] == alert_id and command["language"] == "ja-JP"
        assert command["audio"]["url"].startswith(f"http://hub/api/v1/alerts/{alert_id}/audio")
        # The digest in the command is that of the audio the hub serves, where it speaks.
        if speech.available("ja-JP") is None:
            audio = await hub.client.get(command["audio"]["path"])
            assert audio.status_code == 200
            assert command["audio"]["sha256"] == hashlib.sha256(audio.content).hexdigest()
        else:
            assert "sha256" not in command["audio"]  # the controller checks Repr-Digest
    finally:
        speaking.stop()
        silent.stop()


async def test_a_national_warning_is_not_held_for_synthesis(prefix: str) -> None:
    channel = LoudspeakerChannel(OutboundPolicy.from_setting(LOOPBACK))
    speaking = Controller(prefix, "kanda", acknowledges=True)
    try:
        config = channel.check_config({"port": 1883, "topic_prefix": prefix, "controller": "kanda"})
        missile = dataclasses.replace(
            _message("D3"), severity="Extreme", record={**_message("D3").record, "activation": True}
        )
        assert await channel.send(missile, config) == Delivered("broadcast started")
        (command,) = speaking.commands
        assert command["priority"] == "emergency" and "sha256" not in command["audio"]
        assert command["audio"]["path"].endswith("&repeat=2")
        cancel = dataclasses.replace(_message("D4"), msg_type="Cancel")
        assert await channel.send(cancel, config) == Delivered("broadcast started")
        assert speaking.commands[1]["command"] == "stop"
    finally:
        speaking.stop()
        await channel.close()
