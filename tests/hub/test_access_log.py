"""The access and event log of a real hub process, read from its output: one line per
request with its facts, event lines for the node, publishes and delivery outcomes, in JSON
lines and in plain text — and never a token, a cookie or a credential in a query string."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.cluster import Worker, share_keys
from tests.support.pg import fresh_database
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

ADMIN = "ac_access-log-admin-token-0123456789abcdefghijkl"
QUERY_SECRET = "query-secret-zq81x"
COOKIE_SECRET = "cookie-secret-mv42k"


def _exercise(hub: HubProcess) -> tuple[list[str], str]:
    """Requests whose lines the tests look for; the secrets they carry, and the publish's id."""
    issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
    receiver_org = hub.org("受信者", "receiver")
    secrets = [ADMIN, issuer["token"], receiver_org["token"], QUERY_SECRET, COOKIE_SECRET]
    with Receiver() as receiver, httpx.Client(base_url=hub.url, timeout=10) as client:
        created = client.post(
            "/api/v1/endpoints",
            json={"channel": "webhook", "url": receiver.url("/ok/a")},
            headers={"Authorization": f"Bearer {receiver_org['token']}"},
        )
        assert created.status_code == 201, created.text
        published = client.post(
            "/api/v1/alerts",
            content=xml(make_alert("metro.tokyo.jp", ["131016"])),
            headers={
                "Authorization": f"Bearer {issuer['token']}",
                "X-Request-ID": "proxy-id-1234",
                **CAP_XML,
            },
        )
        assert published.status_code == 201, published.text
        assert published.headers["x-request-id"] == "proxy-id-1234"
        until_blocking(lambda: receiver.count() >= 1)
        listed = client.get(
            "/api/v1/alerts",
            params={"active": "true", "access_token": QUERY_SECRET},
            headers={"Cookie": f"ac_session={COOKIE_SECRET}", "X-Request-ID": "not an id <script>"},
        )
        assert listed.status_code == 200, listed.text
        assert re.fullmatch(r"[0-9a-f]{16}", listed.headers["x-request-id"])
        assert client.get("/api/v1/alerts/nope").status_code == 404
    return secrets, published.json()["id"]


def _exercised_log(tmp_path: Path, **env: str) -> tuple[str, str]:
    """A hub's whole log after ``_exercise`` and a clean stop, checked to hold no secret;
    and the id of the alert published."""
    hub = HubProcess(tmp_path / "data", ADMIN, env={**env, "PYTHONUNBUFFERED": "1"})
    hub.start()
    try:
        secrets, alert_id = _exercise(hub)
    finally:
        hub.stop()
    text = hub.log.read_text()
    for secret in secrets:
        assert secret not in text
    return text, alert_id


def test_json_lines_name_every_request_and_event_and_no_secret(tmp_path: Path) -> None:
    text, alert_id = _exercised_log(tmp_path, ALERTCOMMONS_LOG_FORMAT="json")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "access"]
    events = [line for line in lines if line["logger"] == "events"]

    def one(**wanted: Any) -> dict[str, Any]:
        found = [a for a in access if all(a.get(k) == v for k, v in wanted.items())]
        assert len(found) == 1, (wanted, access)
        first: dict[str, Any] = found[0]
        return first

    publish = one(method="POST", path="/api/v1/alerts", status=201)
    assert publish["request_id"] == "proxy-id-1234"
    assert publish["remote"] == "127.0.0.1" and publish["ms"] >= 0
    assert publish["time"].endswith("Z") and publish["level"] == "info"
    listed = one(method="GET", path="/api/v1/alerts?active=true&access_token=***", status=200)
    assert re.fullmatch(r"[0-9a-f]{16}", listed["request_id"])
    one(method="GET", path="/api/v1/alerts/nope", status=404)
    one(method="POST", path="/api/v1/endpoints", status=201)

    names = [e["event"] for e in events]
    assert names[0] == "node.start" and names[-1] == "node.stop", names
    assert events[0]["role"] == "api+dispatch" and events[0]["database"] == "sqlite"
    [published] = [e for e in events if e["event"] == "alert.published"]
    assert published["alert"] == alert_id and published["deliveries"] == 1
    assert published["sender"] == "metro.tokyo.jp"
    summary = [e for e in events if e["event"] == "deliveries"]
    assert sum(e.get("webhook.delivered", 0) for e in summary) == 1
    assert "Traceback" not in text


def test_plain_lines_are_key_value(tmp_path: Path) -> None:
    text, alert_id = _exercised_log(tmp_path)  # the default format
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO"
    assert re.search(
        stamp + r" access method=POST path=/api/v1/alerts status=201 ms=[\d.]+ "
        r"remote=127\.0\.0\.1 request_id=proxy-id-1234$",
        text,
        re.MULTILINE,
    ), text
    assert re.search(rf"{stamp} events alert\.published alert={alert_id} ", text), text
    assert re.search(rf"{stamp} events node\.stop role=api\+dispatch ", text), text


def test_a_dispatch_worker_logs_its_events_as_json_lines(tmp_path: Path) -> None:
    with fresh_database() as url:
        env = {"ALERTCOMMONS_DISPATCH": "false", "ALERTCOMMONS_LOG_FORMAT": "json"}
        hub = HubProcess(tmp_path / "api", ADMIN, url, env=env)
        hub.start()
        share_keys(hub.data_dir, tmp_path / "worker")
        worker = Worker(tmp_path / "worker", url, ALERTCOMMONS_LOG_FORMAT="json")
        try:
            _exercise(hub)  # waits for the one delivery, which the worker sent
        finally:
            worker.stop()
            hub.stop()
    lines = [json.loads(x) for x in worker.log.read_text().splitlines() if x.startswith("{")]
    events = [line for line in lines if line["logger"] == "events"]
    assert events[0]["event"] == "node.start" and events[0]["role"] == "dispatch"
    assert events[-1]["event"] == "node.stop"
    summary = [e for e in events if e["event"] == "deliveries"]
    assert sum(e.get("webhook.delivered", 0) for e in summary) == 1
    api = [json.loads(x) for x in hub.log.read_text().splitlines() if x.startswith("{")]
    assert [e["role"] for e in api if e.get("event") == "node.start"] == ["api"]
