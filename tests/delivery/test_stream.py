"""SSE streams against a real hub process: filtered, resumable after a disconnect, with
heartbeats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess, running_hub
from tests.support.sse import SSEClient

ADMIN = "ac_stream-test-admin-token-0123456789abcdefghijk"


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[HubProcess]:
    with running_hub(tmp_path / "data", ADMIN, database_url) as process:
        yield process


def _publish(hub: HubProcess, token: str, codes: list[str]) -> str:
    response = httpx.post(
        f"{hub.url}/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", codes)),
        headers={"Authorization": f"Bearer {token}", **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


def _issuer(hub: HubProcess) -> str:
    body = {"name": "全国", "kind": "issuer", "sender": "metro.tokyo.jp", "jurisdiction": ["*"]}
    response = httpx.post(
        f"{hub.url}/api/v1/organizations", json=body, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    token: str = response.json()["token"]
    return token


def _subscribers(hub: HubProcess) -> None:
    # Make sure the server has registered the stream before publishing.
    import time

    time.sleep(0.3)


def test_filtered_stream_resumes_after_disconnect_without_loss(hub: HubProcess) -> None:
    token = _issuer(hub)
    url = f"{hub.url}/api/v1/stream"
    first = SSEClient(url, {"area": "13"})
    _subscribers(hub)
    tokyo_1 = _publish(hub, token, ["131016"])
    _publish(hub, token, ["271004"])  # Osaka: not for this stream
    event_id, record = first.next_event()
    assert event_id == tokyo_1 and record["id"] == tokyo_1 and record["areas"] == ["13101"]
    first.close()

    missed = _publish(hub, token, ["131041"])  # while disconnected
    second = SSEClient(url, {"area": "13"}, last_event_id=tokyo_1)
    event_id, _ = second.next_event()
    assert event_id == missed
    _subscribers(hub)
    live = _publish(hub, token, ["13"])
    event_id, _ = second.next_event()
    assert event_id == live
    second.close()


def test_heartbeats_keep_the_connection_alive(hub: HubProcess) -> None:
    client = SSEClient(f"{hub.url}/api/v1/stream", {"heartbeat": "1"})
    kind, _, payload = client.items.get(timeout=5)
    while kind != "comment":
        kind, _, payload = client.items.get(timeout=5)
    assert "heartbeat" in payload
    client.close()


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"area": "99999"}, "areas"),
        ({"area": "東京"}, "areas"),
        ({"min_severity": "Apocalyptic"}, "min_severity"),
        ({"status": "Real"}, "statuses"),
        ({"heartbeat": "soon"}, "heartbeat"),
        ({"heartbeat": "0"}, "heartbeat"),
    ],
)
def test_bad_stream_filter_is_422(hub: HubProcess, params: dict[str, str], path: str) -> None:
    response = httpx.get(f"{hub.url}/api/v1/stream", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["path"] == path


def test_a_stopping_hub_tells_each_stream_why_it_ends(hub: HubProcess) -> None:
    """The response start still passes the middleware (X-Request-ID), the chunks go by the
    server's own send, and the last event says why the stream ends."""
    import socket

    with socket.create_connection(("127.0.0.1", hub.port), timeout=30) as client:
        client.sendall(b"GET /api/v1/stream?area=13 HTTP/1.1\r\nHost: hub\r\n\r\n")
        received = b""
        while b"retry: 2000" not in received:
            chunk = client.recv(65536)
            assert chunk, received
            received += chunk
        head = received.split(b"\r\n\r\n", 1)[0].lower()
        assert b"x-request-id: " in head and b"text/event-stream" in head
        hub.stop()  # what the hub wrote before it exited waits in the socket
        while chunk := client.recv(65536):
            received += chunk
    close = received[received.index(b"event: close\n") :]
    data = close.split(b"\n")[1]
    assert data.startswith(b"data: ")
    assert "stopping" in json.loads(data[len(b"data: ") :])["reason"]


def test_a_client_that_reads_late_gets_every_event_in_order(tmp_path: Path) -> None:
    """Events pile up faster than the client reads (a 4 KB receive buffer, nothing read for
    a while): the hub's transport pauses, a write the publisher began waits and is finished
    by the stream's own task, the events after it queue behind it. The client, reading at
    last, gets every one of them, once, in order."""
    import re
    import socket
    import time

    from tests.support.server import HubProcess

    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    try:
        issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        headers = {"Authorization": f"Bearer {issuer['token']}", **CAP_XML}
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.connect(("127.0.0.1", hub.port))
            reader.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: hub\r\n\r\n")
            _subscribers(hub)
            published = []
            with httpx.Client(base_url=hub.url, headers=headers) as client:
                for n in range(150):  # ~5 MB: more than the socket buffers hold
                    alert = make_alert("metro.tokyo.jp", ["131016"])
                    alert.infos[0].description = f"{n} " + "避難してください。" * 1200
                    response = client.post("/api/v1/alerts", content=xml(alert))
                    assert response.status_code == 201
                    published.append(response.json()["id"].encode())
            time.sleep(0.5)
            received = b""
            reader.settimeout(10)
            while published[-1] not in received[-70000:]:
                chunk = reader.recv(65536)
                assert chunk, "the stream ended"
                received += chunk
        assert re.findall(rb"\nid: (\w+)\nevent: alert\n", b"\n" + received) == published
    finally:
        hub.stop()
