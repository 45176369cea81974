"""The server's own limits, against a real hub process: slow request heads are dropped, a
live-stream client that stops reading is dropped, stream clients are capped, and resuming a
stream costs a bounded amount."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess

ADMIN = "ac_limits-test-admin-token-0123456789abcdefghijk"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(
        tmp_path / "data",
        ADMIN,
        env={
            "ALERTCOMMONS_HEADER_TIMEOUT_SECONDS": "1",
            "ALERTCOMMONS_SEND_TIMEOUT_SECONDS": "1",
            "ALERTCOMMONS_MAX_STREAM_CLIENTS": "3",
        },
    )
    process.start()
    yield process
    process.stop()


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Read until the server closes (EOF or reset); False if it is still open after ``within``."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_a_request_head_sent_slowly_is_dropped(hub: HubProcess) -> None:
    with socket.create_connection(("127.0.0.1", hub.port)) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")  # never finished
        started = time.monotonic()
        assert _closed_by_server(slow, within=8)
        assert time.monotonic() - started < 8
    with socket.create_connection(("127.0.0.1", hub.port)) as idle:  # nothing sent at all
        assert _closed_by_server(idle, within=8)
    assert httpx.get(f"{hub.url}/healthz").status_code == 200  # others are served as usual


def test_a_slow_head_after_a_whole_one_on_a_kept_alive_connection_is_dropped(
    hub: HubProcess,
) -> None:
    """A head that arrives whole gets no timer (api/server.py); the next one, on the same
    connection, sent a byte at a time, is still timed from its first byte."""
    with socket.create_connection(("127.0.0.1", hub.port)) as kept:
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        for byte in b"GET /healthz HTTP/1.1\r\nHo":
            kept.sendall(bytes([byte]))
            time.sleep(0.02)
        assert _closed_by_server(kept, within=8)
        assert time.monotonic() - started < 4  # the 1 s head timeout, not the keep-alive's


def test_many_slow_heads_do_not_stop_the_hub(hub: HubProcess) -> None:
    slow = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", hub.port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
            slow.append(sock)
        for _ in range(5):
            assert httpx.get(f"{hub.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in slow:
            sock.close()


def test_a_stream_client_that_stops_reading_is_dropped(hub: HubProcess) -> None:
    issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
    headers = {"Authorization": f"Bearer {issuer['token']}", **CAP_XML}
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(("127.0.0.1", hub.port))
    reader.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: hub\r\n\r\n")
    time.sleep(0.3)  # the stream is registered; from now on this client reads nothing
    published = 60
    with httpx.Client(base_url=hub.url, headers=headers) as client:
        for n in range(published):
            alert = make_alert("metro.tokyo.jp", ["131016"])
            alert.infos[0].description = f"{n} " + "避難してください。" * 1200  # ~32 KB
            assert client.post("/api/v1/alerts", content=xml(alert)).status_code == 201
    time.sleep(3)  # well past the 1 s send timeout
    received = b""
    reader.settimeout(10)
    try:
        while chunk := reader.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail("the hub kept a stream that stopped reading")
    finally:
        reader.close()
    assert received.count(b"\nevent: alert\n") < published


def test_stream_clients_are_capped_with_a_problem(hub: HubProcess) -> None:
    streams = []
    try:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", hub.port))
            sock.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: hub\r\n\r\n")
            sock.settimeout(5)
            assert b" 200 " in sock.recv(4096).split(b"\r\n", 1)[0]
            streams.append(sock)
        response = httpx.get(f"{hub.url}/api/v1/stream", timeout=5)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
    finally:
        for sock in streams:
            sock.close()


@pytest.mark.parametrize("value", ["0", "'; drop", "01M8MB5JPHTYT345Q7YZ86HXB"])
def test_resume_point_must_be_an_event_id(hub: HubProcess, value: str) -> None:
    response = httpx.get(f"{hub.url}/api/v1/stream", params={"last_event_id": value}, timeout=5)
    assert response.status_code == 422
    assert response.json()["path"] == "last_event_id"


def test_a_malformed_last_event_id_header_starts_live(hub: HubProcess) -> None:
    with httpx.stream(
        "GET", f"{hub.url}/api/v1/stream", headers={"Last-Event-ID": "0"}, timeout=5
    ) as response:
        assert response.status_code == 200
        first = next(response.iter_text())
        assert json.dumps(first).startswith('"retry: 2000')


def test_stopping_with_a_stream_open_ends_it_cleanly(hub: HubProcess) -> None:
    with socket.create_connection(("127.0.0.1", hub.port)) as stream:
        stream.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: hub\r\n\r\n")
        stream.settimeout(5)
        assert b" 200 " in stream.recv(4096)
        assert hub.process is not None
        hub.process.terminate()
        hub.process.wait(timeout=10)
        assert _closed_by_server(stream, within=5)  # the response was ended, not abandoned
    log = hub.log.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log
