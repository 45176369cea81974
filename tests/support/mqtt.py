"""Real MQTT: a subscriber that records what it gets, what a newcomer finds retained, and a
password-protected Mosquitto of a test's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.server import free_port
from tests.support.services import unavailable


class Subscriber:
    def __init__(
        self,
        topic: str,
        port: int = 1883,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.messages: list[tuple[bytes, bool]] = []
        self.topics: list[str] = []
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.ready.set()
        self.client.on_message = self._record
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(5)

    def _record(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.topics.append(message.topic)
            self.messages.append((bytes(message.payload), message.retain))

    def received(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return [(t, p, r) for t, (p, r) in zip(self.topics, self.messages, strict=True)]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def retained(
    topic: str, port: int = 1883, username: str | None = None, password: str | None = None
) -> dict[str, bytes]:
    """What a device subscribing to ``topic`` now finds retained, topic by topic.

    Mosquitto sends a subscription's retained messages right after its SUBACK, before any
    message published later to that client; so a fence published after the SUBACK and
    received back marks the end of them — no waiting for "nothing more".
    """
    fence = f"fence/{uuid.uuid4().hex}"
    got: dict[str, bytes] = {}
    done = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2)
    if username is not None:
        client.username_pw_set(username, password)

    def on_message(c: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if message.topic == fence:
            done.set()
        elif message.retain and message.payload:
            got[message.topic] = bytes(message.payload)

    client.on_connect = lambda c, u, f, rc, p: c.subscribe([(topic, 1), (fence, 1)])
    client.on_subscribe = lambda c, u, mid, rc, p: c.publish(fence, b"end", qos=1)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert done.wait(5), "the fence did not come back"
    finally:
        client.loop_stop()
        client.disconnect()
    return got


@dataclass(frozen=True)
class Broker:
    port: int
    username: str
    password: str


@contextmanager
def private_broker(tmp_path: Path, username: str, password: str) -> Iterator[Broker]:
    """A Mosquitto on a free port that lets in only ``username`` with ``password``."""
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    passwd = shutil.which("mosquitto_passwd")
    if not Path(mosquitto).exists() or passwd is None:
        unavailable("mosquitto and mosquitto_passwd are needed")
    assert passwd is not None  # unavailable() has failed or skipped the test
    port = free_port()
    passwords = tmp_path / "mosquitto.passwd"
    passwords.touch(mode=0o600)
    subprocess.run([passwd, "-b", str(passwords), username, password], check=True, timeout=30)
    config = tmp_path / "mosquitto.conf"
    # Run as root, Mosquitto drops to its own user, who cannot read a test's tmp directory.
    stay = "user root\n" if os.geteuid() == 0 else ""
    config.write_text(
        stay + f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {passwords}\n"
        "persistence false\n"
    )
    process = subprocess.Popen(
        [mosquitto, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, process)
        yield Broker(port, username, password)
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("mosquitto exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not listen in time")
