"""MQTT: publish to a topic per area, QoS 1, the alerts in force kept as retained messages.

Signage and loudspeaker controllers subscribe to their area's topic
(``{topic_prefix}/{code}``, e.g. ``alerts/13101``) and find the current alert there even
after a reconnect. A cancellation clears the retained message of each area it covers and is
itself published, not retained. A national warning that asks for loudspeaker activation is
also sent as a small JSON command on ``{topic_prefix}/activate/{code}`` (QoS 1, not retained),
so a loudspeaker controller can start without parsing CAP.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, ClassVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from alertcommons.delivery.channels import ChannelConfigError, credentials, masked
from alertcommons.delivery.message import Message
from alertcommons.delivery.result import Delivered, DeliveryResult, RetryAfter


class MQTTChannel:
    name: ClassVar[str] = "mqtt"

    def __init__(self) -> None:
        self._clients: dict[tuple[str, int, str | None], paho.Client] = {}
        self._lock = threading.Lock()

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        host = config.get("host", "127.0.0.1")
        port = config.get("port", 1883)
        prefix = config.get("topic_prefix", "alerts")
        if not isinstance(host, str) or not isinstance(port, int) or not 0 < port < 65536:
            raise ChannelConfigError("mqtt 'host' is a name and 'port' a port number")
        if not isinstance(prefix, str) or not prefix or any(c in prefix for c in "#+"):
            raise ChannelConfigError("mqtt 'topic_prefix' is a topic without wildcards")
        body_format = config.get("format", "cap")
        if body_format not in ("cap", "json"):
            raise ChannelConfigError("mqtt 'format' is 'cap' or 'json'")
        checked = {
            "host": host,
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
            await asyncio.to_thread(self._publish, message, config)
        except (OSError, RuntimeError, ValueError) as exc:
            return RetryAfter(f"MQTT: {exc}")
        return Delivered()

    def _publish(self, message: Message, config: dict[str, Any]) -> None:
        client = self._client(config)
        payload = message.json_body() if config.get("format") == "json" else message.cap_xml
        areas = message.areas or ("all",)
        infos = []
        for area in areas:
            topic = f"{config['topic_prefix']}/{area}"
            if message.msg_type == "Cancel":
                infos.append(client.publish(topic, b"", qos=1, retain=True))
                infos.append(client.publish(topic, payload, qos=1, retain=False))
            else:
                infos.append(client.publish(topic, payload, qos=1, retain=True))
            if message.record.get("activation") and message.msg_type != "Cancel":
                # Loudspeaker controllers act on this topic without parsing CAP.
                command = _activation(message, area)
                infos.append(
                    client.publish(f"{config['topic_prefix']}/activate/{area}", command, qos=1)
                )
        for info in infos:
            info.wait_for_publish(timeout=10)
            if not info.is_published():
                raise RuntimeError(f"broker did not acknowledge (rc={info.rc})")

    def _client(self, config: dict[str, Any]) -> paho.Client:
        key = (config["host"], config["port"], config.get("username"))
        with self._lock:
            client = self._clients.get(key)
            if client is not None and client.is_connected():
                return client
            client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
            if "username" in config:
                client.username_pw_set(config["username"], config.get("password"))
            client.connect(config["host"], config["port"], keepalive=30)
            client.loop_start()
            self._clients[key] = client
            return client

    async def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.loop_stop()
                client.disconnect()
            self._clients.clear()


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
            "event": first.get("event"),
            "text": first.get("instruction") or first.get("description"),
            "language": first.get("language"),
        },
        ensure_ascii=False,
    ).encode()
