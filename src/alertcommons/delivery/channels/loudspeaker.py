"""Loudspeaker: activate a municipal disaster-radio controller (防災行政無線) over MQTT, and
count it delivered only when the controller says the broadcast started.

The hub publishes an activation command (QoS 1, never retained: a controller that comes
back later must not broadcast an old warning) on ``{topic_prefix}/activate/{controller}``
and waits ``ack_seconds`` for the answer on the command's ``reply_to`` topic,
``{topic_prefix}/ack/{activation_id}``, which it subscribed to before publishing:

* ``{"activation_id": …, "started": true}`` — delivered;
* ``{"started": false, "reason": "…"}`` or no answer in time — retried (``RetryAfter``), so
  the delivery shows as retrying with the reason, and ``/api/v1/endpoints/health`` lists
  the endpoint once it has failed for long enough. A controller that never answers is
  reported, not taken for one that broadcast.

The command carries what a controller needs without parsing CAP: the text to speak, the
language, how many times to repeat it, a priority (``emergency`` for a national warning
that asks for loudspeakers, ``high`` for Immediate Severe/Extreme alerts, else ``normal``),
and the audio the hub serves (path, URL when the endpoint names the hub's base URL, and —
where the hub has a speech engine — its SHA-256, the same bytes ``/audio`` answers). A Cancel
is a ``stop`` command, acknowledged the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from typing import Any, ClassVar
from urllib.parse import quote

import paho.mqtt.client as paho

from alertcommons import pools, speech
from alertcommons.delivery.channels import ChannelConfigError, checked_host, credentials, masked
from alertcommons.delivery.channels.mqtt import _connect, _stop  # one way to open a session
from alertcommons.delivery.message import Message
from alertcommons.delivery.outbound import UNDELIVERABLE, OutboundPolicy, OutboundRefused
from alertcommons.delivery.result import Delivered, DeliveryResult, RetryAfter
from alertcommons.speech import SpeechUnavailable

log = logging.getLogger(__name__)

TEXT_CHARS = 2000
SUBSCRIBE_SECONDS = 5.0
MAX_ACK_SECONDS = 120.0
_DIGESTS = 64  # announcements remembered, so many endpoints cost one synthesis


class LoudspeakerChannel:
    name: ClassVar[str] = "loudspeaker"

    def __init__(self, policy: OutboundPolicy | None = None) -> None:
        self.policy = policy or OutboundPolicy()
        self._digests: OrderedDict[tuple[str, str, int], str | None] = OrderedDict()
        self._lock = threading.Lock()

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        host = config.get("host", "127.0.0.1")
        port = config.get("port", 1883)
        if not isinstance(host, str) or not isinstance(port, int) or not 0 < port < 65536:
            raise ChannelConfigError("loudspeaker 'host' is a name and 'port' a port number")
        prefix = config.get("topic_prefix", "loudspeakers")
        controller = config.get("controller")
        for key, value in (("topic_prefix", prefix), ("controller", controller)):
            if not isinstance(value, str) or not value or any(c in value for c in "#+\0"):
                raise ChannelConfigError(f"loudspeaker '{key}' is a topic level, no wildcards")
        repeat = config.get("repeat", 2)
        if not isinstance(repeat, int) or not 1 <= repeat <= 5:
            raise ChannelConfigError("loudspeaker 'repeat' is 1 to 5")
        ack = config.get("ack_seconds", 10)
        if not isinstance(ack, int | float) or not 0 < ack <= MAX_ACK_SECONDS:
            raise ChannelConfigError(
                f"loudspeaker 'ack_seconds' is above 0, at most {MAX_ACK_SECONDS:g}"
            )
        language = config.get("language", "ja")
        if not isinstance(language, str) or not language:
            raise ChannelConfigError("loudspeaker 'language' is a CAP language such as 'ja'")
        base = config.get("audio_base_url")
        if base is not None and (
            not isinstance(base, str) or not base.startswith(("http://", "https://"))
        ):
            raise ChannelConfigError("loudspeaker 'audio_base_url' is the hub's http(s) URL")
        checked: dict[str, Any] = {
            "host": checked_host(self.policy, "loudspeaker", "host", host),
            "port": port,
            "topic_prefix": prefix.rstrip("/"),
            "controller": controller,
            "repeat": repeat,
            "ack_seconds": float(ack),
            "language": language,
        }
        if base is not None:
            checked["audio_base_url"] = base.rstrip("/")
        checked.update(credentials(config))
        return checked

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return masked(config, "password")

    async def send(self, message: Message, config: dict[str, Any]) -> DeliveryResult:
        try:
            address = await self.policy.resolve(config["host"], config["port"])
            command = await pools.run("speech", self.command, message, config)
            answer = await pools.run("mqtt", _activate, config, address, command)
        except OutboundRefused:
            return RetryAfter(UNDELIVERABLE)
        except (OSError, RuntimeError, ValueError) as exc:
            log.info("loudspeaker via %s:%s: %r", config["host"], config["port"], exc)
            return RetryAfter(UNDELIVERABLE)
        if answer is None:
            return RetryAfter(
                f"the controller did not acknowledge within {config['ack_seconds']:g} s"
            )
        if answer.get("started") is True:
            return Delivered("broadcast started")
        reason = str(answer.get("reason") or "no reason given")[:200]
        return RetryAfter(f"the controller did not start the broadcast: {reason}")

    def command(self, message: Message, config: dict[str, Any]) -> dict[str, Any]:
        """The activation (or stop) command for ``message``, as the controller gets it."""
        document = message.record.get("alert") or {}
        info = speech.pick_info(document, config["language"]) or (document.get("info") or [{}])[0]
        language = str(info.get("language") or "ja-JP")
        repeat = int(config["repeat"])
        path = (
            f"/api/v1/alerts/{quote(message.alert_id)}/audio?lang={quote(language)}&repeat={repeat}"
        )
        audio: dict[str, Any] = {"path": path, "mime_type": "audio/wav"}
        if "audio_base_url" in config:
            audio["url"] = config["audio_base_url"] + path
        # A national warning starts the loudspeakers at once: its command never waits a
        # second of synthesis for a digest it can do without (the audio's Repr-Digest says it).
        urgent = _priority(message) == "emergency"
        digest = self._digest(message.alert_id, info, repeat, synthesize=not urgent)
        if digest:
            audio["sha256"] = digest
        stop = message.msg_type == "Cancel"
        return {
            "command": "stop" if stop else "activate",
            "activation_id": message.delivery_id,
            "alert_id": message.alert_id,
            "sender": message.sender,
            "identifier": message.identifier,
            "msgType": message.msg_type,
            "status": message.status,
            "priority": _priority(message),
            "language": language,
            "repeat": repeat,
            "text": speech.script(info)[:TEXT_CHARS],
            "audio": audio,
            "expires": message.record.get("expires"),
            "reply_to": f"{config['topic_prefix']}/ack/{message.delivery_id}",
        }

    def _digest(
        self, alert_id: str, info: dict[str, Any], repeat: int, *, synthesize: bool
    ) -> str | None:
        """The SHA-256 of the audio the hub serves, when a speech engine is here; None else
        (the controller then checks the ``Repr-Digest`` of the audio it fetches)."""
        key = (alert_id, str(info.get("language")), repeat)
        with self._lock:
            if key in self._digests or not synthesize:
                return self._digests.get(key)
        try:
            wav = speech.announcement(info, repeat).wav()
            digest: str | None = hashlib.sha256(wav).hexdigest()
        except SpeechUnavailable:
            digest = None
        with self._lock:
            self._digests[key] = digest
            while len(self._digests) > _DIGESTS:
                self._digests.popitem(last=False)
        return digest

    async def close(self) -> None:
        return None


def _priority(message: Message) -> str:
    if message.record.get("activation"):
        return "emergency"
    if message.urgency == "Immediate" and message.severity in ("Extreme", "Severe"):
        return "high"
    return "normal"


def _activate(
    config: dict[str, Any], address: str, command: dict[str, Any]
) -> dict[str, Any] | None:
    """Publish ``command`` and wait for the controller's answer; None when none came."""
    client = _connect(config, address)
    subscribed = threading.Event()
    answered = threading.Event()
    answer: list[dict[str, Any]] = []

    def on_subscribe(c: paho.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        subscribed.set()

    def on_message(c: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return  # not an answer; keep waiting for one
        if isinstance(body, dict) and body.get("activation_id") == command["activation_id"]:
            answer.append(body)
            answered.set()

    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        # Subscribed before publishing, so even an instant answer is not missed.
        client.subscribe(command["reply_to"], qos=1)
        if not subscribed.wait(SUBSCRIBE_SECONDS):
            raise RuntimeError("the broker did not confirm the subscription to the answer")
        topic = f"{config['topic_prefix']}/activate/{config['controller']}"
        sent = client.publish(topic, json.dumps(command, ensure_ascii=False).encode(), qos=1)
        sent.wait_for_publish(timeout=SUBSCRIBE_SECONDS)
        if not sent.is_published():
            raise RuntimeError(f"broker did not acknowledge the command (rc={sent.rc})")
        answered.wait(config["ack_seconds"])
    finally:
        _stop(client)
    return answer[0] if answer else None
