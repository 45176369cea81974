"""A real MQTT subscriber (paho, against the local Mosquitto) that records what it gets."""

from __future__ import annotations

import threading

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


class Subscriber:
    def __init__(self, topic: str) -> None:
        self.messages: list[tuple[bytes, bool]] = []
        self.topics: list[str] = []
        self.ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.ready.set()
        self.client.on_message = self._record
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        assert self.ready.wait(5)

    def _record(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        self.topics.append(message.topic)
        self.messages.append((message.payload, message.retain))

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
