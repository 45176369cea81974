"""PostgreSQL restarted while issuers publish, on a server of the test's own: every publish is
answered 201, or 503 with Retry-After (never a 500); every alert answered 201 is stored whole
and delivered, and nothing half-written is left by the ones that were refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.pgcluster import OwnPostgres
from tests.support.receivers import Receiver
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

ADMIN = "ac_pg-restart-admin-token-0123456789abcdefghijkl"


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


class Publisher(threading.Thread):
    """Publishes alerts one after another until stopped, keeping every answer."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.answers: list[tuple[int, str | None, str]] = []  # status, Retry-After, id/body
        self.halt = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", **CAP_XML}
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.halt.is_set():
                body = xml(make_alert("metro.tokyo.jp", ["131016"]))
                response = client.post("/api/v1/alerts", content=body, headers=headers)
                created = response.status_code == 201
                self.answers.append(
                    (
                        response.status_code,
                        response.headers.get("retry-after"),
                        response.json()["id"] if created else response.text,
                    )
                )

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[0] == status)


def test_publishers_get_503_while_postgresql_restarts_and_nothing_is_lost(
    tmp_path: Path, postgres: OwnPostgres
) -> None:
    # A delivery whose outcome could not be recorded while the database was away is sent
    # again when its lease ends: a short lease keeps the test short.
    env = {"ALERTCOMMONS_DELIVERY_LEASE_SECONDS": "3"}
    hub = HubProcess(tmp_path / "hub", ADMIN, postgres.url, env=env)
    hub.start()
    publisher: Publisher | None = None
    try:
        issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        receiver_org = hub.org("受信者", "receiver")
        with Receiver() as receiver:
            created = httpx.post(
                f"{hub.url}/api/v1/endpoints",
                json={"channel": "webhook", "url": receiver.url("/ok/site")},
                headers={"Authorization": f"Bearer {receiver_org['token']}"},
            )
            assert created.status_code == 201, created.text
            publisher = Publisher(hub.url, issuer["token"])
            publisher.start()
            until_blocking(lambda: publisher.count(201) >= 5)
            postgres.stop("fast")  # connections cut mid-request
            until_blocking(lambda: publisher.count(503) >= 3, seconds=30)
            postgres.start()
            before = publisher.count(201)
            until_blocking(lambda: publisher.count(201) >= before + 5, seconds=60)
            publisher.halt.set()
            publisher.join(30)

            statuses = {status for status, _, _ in publisher.answers}
            assert statuses == {201, 503}, publisher.answers
            for status, retry_after, body in publisher.answers:
                if status == 503:
                    assert retry_after is not None and int(retry_after) > 0
                    assert '"status":503' in body.replace(" ", "")
            accepted = [body for status, _, body in publisher.answers if status == 201]
            for alert_id in accepted:
                stored = httpx.get(f"{hub.url}/api/v1/alerts/{alert_id}")
                assert stored.status_code == 200, stored.text
                assert stored.json()["id"] == alert_id

            def delivered() -> set[str]:
                return {r.headers["webhook-id"] for r in receiver.received}

            until_blocking(lambda: set(accepted) <= delivered(), seconds=60)
        assert hub.process is not None and hub.process.poll() is None
    finally:
        if publisher is not None:
            publisher.halt.set()
        hub.stop()

    # Nothing half-written: every stored alert has its area rows and its delivery.
    with psycopg.connect(postgres.url) as db:
        incomplete = db.execute(
            "SELECT a.id FROM alerts a WHERE NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.alert_id = a.id) "
            "OR NOT EXISTS (SELECT 1 FROM alert_areas r WHERE r.alert_id = a.id)"
        ).fetchall()
        assert incomplete == []
    assert "unexpected error" not in hub.log.read_text()
