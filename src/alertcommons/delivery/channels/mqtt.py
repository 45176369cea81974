"""MQTT: each alert once, a small retained pointer per area, retained exactly while in force.

Topics under the endpoint's ``topic_prefix`` (layout 2; see docs/receivers.md):

* ``{prefix}/alert/{alert_id}`` — the alert itself (signed CAP, or the JSON record), once
  per endpoint whatever the number of areas, QoS 1, retained while it is in force;
* ``{prefix}/{code}/{alert_id}`` — per area, a small JSON pointer (who, what, until when,
  and the topic above), retained while the alert is in force. A device subscribes to
  ``{prefix}/{code}/+`` and finds *every* alert in force for its area after a reconnect;
* ``{prefix}/activate/{code}`` — the loudspeaker command of a national warning that asks for
  activation (QoS 1, not retained), so a controller can start without parsing CAP.

Why this shape: the full payload once per area put 56 MB on the broker for one 0.9 MB alert
over Tokyo's 62 municipalities; one retained message per area could only hold the *last*
alert, so cancelling B erased A while A was still in force. Now:

* retained messages carry an MQTT 5 message-expiry interval ending at the alert's
  ``expires``: the broker drops them then, and an alert already expired is never retained;
* an Update or Cancel clears the retained messages of the alerts it references — the alert
  topic and every area pointer the broker holds for them (looked up on the broker, so it
  holds after a restart and across hub nodes, and when the Cancel covers fewer areas) —
  and touches nothing else; a Cancel is published, not retained;
* broker sessions are keyed on everything that authenticates them (host, port, username, a
  hash of the password, TLS settings, client id): a receiver that knows another's broker and
  username but not its password gets its own session, and the broker's refusal;
* the broker's address passes the outbound policy when connecting, and the connection (and
  every reconnect) goes to the address that was checked;
* the blocking client runs on the MQTT thread pool (``alertcommons.pools``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import socket
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from alertcommons import pools
from alertcommons.delivery.channels import ChannelConfigError, checked_host, credentials, masked
from alertcommons.delivery.message import Message
from alertcommons.delivery.outbound import UNDELIVERABLE, OutboundPolicy, OutboundRefused
from alertcommons.delivery.result import Delivered, DeliveryResult, RetryAfter

log = logging.getLogger(__name__)

CONNECT_SECONDS = 5.0
PUBLISH_SECONDS = 10.0
TEXT_CHARS = 200  # headline and event in a pointer
COMMAND_TEXT_CHARS = 1000  # the spoken text of an activation command
LOOKUP_SECONDS = 5.0

_SessionKey = tuple[str, int, str | None, str | None, str, str | None]


class MQTTChannel:
    name: ClassVar[str] = "mqtt"

    def __init__(self, policy: OutboundPolicy | None = None) -> None:
        self.policy = policy or OutboundPolicy()
        self._clients: dict[_SessionKey, paho.Client] = {}
        self._connecting: dict[_SessionKey, threading.Lock] = {}
        self._lock = threading.Lock()

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        host = config.get("host", "127.0.0.1")
        port = config.get("port", 1883)
        prefix = config.get("topic_prefix", "alerts")
        if not isinstance(host, str) or not isinstance(port, int) or not 0 < port < 65536:
            raise ChannelConfigError("mqtt 'host' is a name and 'port' a port number")
        if not isinstance(prefix, str) or not prefix or any(c in prefix for c in "#+\0"):
            raise ChannelConfigError("mqtt 'topic_prefix' is a topic without wildcards")
        body_format = config.get("format", "cap")
        if body_format not in ("cap", "json"):
            raise ChannelConfigError("mqtt 'format' is 'cap' or 'json'")
        checked = {
            "host": checked_host(self.policy, "mqtt", "host", host),
            "port": port,
            "topic_prefix": prefix.rstrip("/"),
            "format": body_format,
        }
        checked.update(credentials(config))
        return checked

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return masked(config, "password")

    async def send(self, message: Message, config: dict[str, Any]) -> DeliveryResult:
        try:
            address = await self.policy.resolve(config["host"], config["port"])
            await pools.run("mqtt", self._publish, message, config, address)
        except OutboundRefused:
            return RetryAfter(UNDELIVERABLE)
        except (OSError, RuntimeError, ValueError) as exc:
            log.info("mqtt to %s:%s: %r", config["host"], config["port"], exc)
            return RetryAfter(UNDELIVERABLE)
        return Delivered()

    def _publish(self, message: Message, config: dict[str, Any], address: str) -> None:
        key = session_key(config)
        client = self._client(key, config, address)
        prefix = config["topic_prefix"]
        payload = message.json_body() if config.get("format") == "json" else message.cap_xml
        areas = message.areas or ("all",)
        expiry = _seconds_left(message.record.get("expires"))
        in_force = message.msg_type in ("Alert", "Update") and (expiry is None or expiry > 0)
        sends: list[tuple[str, bytes, bool, int | None]] = []
        references = [str(ref) for ref in message.record.get("references") or []]
        if references:
            # What the broker holds for them, whichever node published it and whatever
            # areas it had: an Update or Cancel may cover fewer areas than the original.
            held = _retained_topics(config, address, prefix, references)
            for ref in references:
                topics = {f"{prefix}/alert/{ref}"} | {f"{prefix}/{a}/{ref}" for a in areas}
                topics |= {t for t in held if t.endswith(f"/{ref}")}
                sends += [(topic, b"", True, None) for topic in sorted(topics)]
        sends.append((f"{prefix}/alert/{message.alert_id}", payload, in_force, expiry))
        for area in areas:
            pointer = _pointer(message, prefix, area)
            sends.append((f"{prefix}/{area}/{message.alert_id}", pointer, in_force, expiry))
            if message.record.get("activation") and message.msg_type != "Cancel":
                command = _activation(message, area)
                sends.append((f"{prefix}/activate/{area}", command, False, None))
        infos = [
            client.publish(t, p, qos=1, retain=r, properties=_expiry(e)) for t, p, r, e in sends
        ]
        for info in infos:
            info.wait_for_publish(timeout=PUBLISH_SECONDS)
            if not info.is_published():
                raise RuntimeError(f"broker did not acknowledge (rc={info.rc})")

    def _client(self, key: _SessionKey, config: dict[str, Any], address: str) -> paho.Client:
        with self._lock:
            client = self._clients.get(key)
            if client is not None and client.is_connected():
                return client
            connecting = self._connecting.setdefault(key, threading.Lock())
        # One connection attempt per session at a time; other sessions do not wait for it.
        with connecting:
            with self._lock:
                client = self._clients.get(key)
                if client is not None and client.is_connected():
                    return client
                stale = self._clients.pop(key, None)
            if stale is not None:
                _stop(stale)
            client = _connect(config, address)
            with self._lock:
                self._clients[key] = client
            return client

    async def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            _stop(client)


def session_key(config: dict[str, Any]) -> _SessionKey:
    """Everything that authenticates a broker session; the password only as a hash."""
    password = config.get("password")
    digest = hashlib.sha256(password.encode()).hexdigest() if password is not None else None
    tls = json.dumps({k: v for k, v in sorted(config.items()) if k.startswith("tls")})
    return (
        config["host"],
        config["port"],
        config.get("username"),
        digest,
        tls,
        config.get("client_id"),
    )


class _PinnedClient(paho.Client):
    """A paho client that connects, and reconnects, only to the address that was checked."""

    pinned_address = ""

    def _create_socket_connection(self) -> socket.socket:
        return socket.create_connection(
            (self.pinned_address, self._port), timeout=self._connect_timeout
        )


def _connect(config: dict[str, Any], address: str) -> paho.Client:
    client = _PinnedClient(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.pinned_address = address
    if "username" in config:
        client.username_pw_set(config["username"], config.get("password"))
    answered = threading.Event()
    outcome: list[Any] = []

    def on_connect(c: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        outcome.append(reason)
        answered.set()

    client.on_connect = on_connect
    client.connect(config["host"], config["port"], keepalive=30)
    peer = client.socket()
    if not isinstance(peer, socket.socket) or peer.getpeername()[0] != address:
        # The pinning above relies on a paho internal; if it ever stops working, refuse
        # rather than connect to whatever the name resolves to now.
        client.disconnect()
        raise RuntimeError("the MQTT client did not connect to the checked address")
    client.loop_start()
    if not answered.wait(CONNECT_SECONDS) or outcome[0].is_failure:
        # Refused (bad credentials, not authorized) or silent: this session is not kept.
        _stop(client)
        raise RuntimeError(f"broker refused the session: {outcome[:1]}")
    client.on_connect = None
    return client


def _retained_topics(
    config: dict[str, Any], address: str, prefix: str, alert_ids: list[str]
) -> set[str]:
    """Topics under ``prefix`` where the broker retains something for these alerts.

    A short session of its own (same credentials) subscribes to ``{prefix}/+/{id}``; the
    broker sends retained messages right after the SUBACK, before anything published
    later to this session, so a fence message sent after the SUBACK and received back
    marks the end of them.
    """
    client = _connect(config, address)
    fence = f"{prefix}/fence/{uuid.uuid4().hex}"
    found: set[str] = set()
    done = threading.Event()

    def on_message(c: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic == fence:
            done.set()
        elif message.retain and message.payload:
            found.add(message.topic)

    def on_subscribe(c: paho.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        c.publish(fence, b"", qos=1)

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    try:
        filters = [(f"{prefix}/+/{alert_id}", 1) for alert_id in alert_ids] + [(fence, 1)]
        client.subscribe(filters)
        if not done.wait(LOOKUP_SECONDS):
            raise RuntimeError("the broker did not answer the retained-message lookup")
    finally:
        _stop(client)
    return found


def _stop(client: paho.Client) -> None:
    client.loop_stop()
    client.disconnect()


def _seconds_left(expires: object) -> int | None:
    if not isinstance(expires, str):
        return None
    try:
        moment = datetime.fromisoformat(expires)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.ceil((moment - datetime.now(UTC)).total_seconds())


def _expiry(seconds: int | None) -> Properties | None:
    if seconds is None or seconds <= 0:
        return None
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.MessageExpiryInterval = min(seconds, 2**32 - 1)
    return properties


def _cut(text: object, limit: int) -> str | None:
    if not isinstance(text, str):
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pointer(message: Message, prefix: str, area: str) -> bytes:
    infos = message.record.get("alert", {}).get("info") or [{}]
    first = infos[0]
    return json.dumps(
        {
            "alert_id": message.alert_id,
            "area": area,
            "sender": message.sender,
            "identifier": message.identifier,
            "sent": message.record.get("sent"),
            "msgType": message.msg_type,
            "status": message.status,
            "urgency": message.urgency,
            "severity": message.severity,
            "expires": message.record.get("expires"),
            "event": _cut(first.get("event"), TEXT_CHARS),
            "headline": _cut(first.get("headline"), TEXT_CHARS),
            "alert_topic": f"{prefix}/alert/{message.alert_id}",
        },
        ensure_ascii=False,
    ).encode()


def _activation(message: Message, area: str) -> bytes:
    infos = message.record.get("alert", {}).get("info", [])
    first = infos[0] if infos else {}
    return json.dumps(
        {
            "activate": True,
            "area": area,
            "alert_id": message.alert_id,
            "delivery_id": message.delivery_id,
            "sender": message.sender,
            "identifier": message.identifier,
            "status": message.status,
            "event": _cut(first.get("event"), TEXT_CHARS),
            "text": _cut(first.get("instruction") or first.get("description"), COMMAND_TEXT_CHARS),
            "language": first.get("language"),
        },
        ensure_ascii=False,
    ).encode()
