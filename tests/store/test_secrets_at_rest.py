"""Secrets at rest: endpoint settings sealed in the database, database files owner-only.

Real receivers (an HTTP server, aiosmtpd with AUTH) show delivery still uses the right
secret and password; the raw bytes of the SQLite files, and the PostgreSQL row, show
they are not there in plain text.
"""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import insert, select, update
from sqlalchemy.engine import make_url

from alertcommons.delivery.channels.webhook import new_secret, verify_signature
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store.engine import Store
from alertcommons.store.keyring import load_keys
from alertcommons.store.schema import endpoints, organizations
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.receivers import Receiver
from tests.support.server import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"
SMTP_PASSWORD = "smtp-pa55-" + uuid.uuid4().hex
MQTT_PASSWORD = "mqtt-pa55-" + uuid.uuid4().hex


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == SMTP_PASSWORD)


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=inbox, auth_require_tls=False
    )
    controller.start()
    yield port, inbox
    controller.stop()


async def _endpoint(hub: Hub, org: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await hub.client.post("/api/v1/endpoints", json=body, headers=org["headers"])
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _sqlite_files(database_url: str) -> list[Path]:
    database = Path(str(make_url(database_url).database))
    names = [database.name + suffix for suffix in ("", "-wal", "-shm")]
    return [database.with_name(name) for name in names if database.with_name(name).exists()]


def _stored_bytes(database_url: str) -> bytes:
    if database_url.startswith("sqlite"):
        return b"".join(path.read_bytes() for path in _sqlite_files(database_url))
    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as connection:
        rows = connection.execute("SELECT config FROM endpoints").fetchall()
    return "\n".join(row[0] for row in rows).encode()


async def test_endpoint_secrets_sealed_at_rest_and_delivery_still_signs_and_logs_in(
    hub: Hub, database_url: str, receiver: Receiver, smtp: tuple[int, _Inbox]
) -> None:
    hub.dispatch_fast()
    port, inbox = smtp
    issuer = await hub.org("東京都", TOKYO, ["13"])
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    secret = new_secret()
    hook_path = f"/ok/hook-{uuid.uuid4().hex}"  # a URL can be a secret of its own
    webhook = await _endpoint(
        hub, rx, channel="webhook", url=receiver.url(hook_path), secret=secret
    )
    assert webhook["secret"] == secret  # shown once, at registration
    await _endpoint(
        hub,
        rx,
        channel="email",
        to=["bousai@example.jp"],
        smtp_host="127.0.0.1",
        smtp_port=port,
        username="bousai",
        password=SMTP_PASSWORD,
    )
    mqtt = await _endpoint(
        hub,
        rx,
        channel="mqtt",
        username="signage",
        password=MQTT_PASSWORD,
        filter={"areas": ["47"]},  # never matched here: only its storage matters
    )
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(TOKYO, ["131016"])),
        headers={**issuer["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text

    await until(lambda: receiver.for_path(hook_path) and inbox.messages, seconds=15)
    (got,) = receiver.for_path(hook_path)
    assert verify_signature(secret, got.headers, got.body)
    assert ("bousai", SMTP_PASSWORD) in inbox.logins

    # The API still shows the settings, secrets masked.
    shown = await hub.client.get(f"/api/v1/endpoints/{mqtt['id']}", headers=rx["headers"])
    assert shown.json()["username"] == "signage" and shown.json()["password"] == "…"

    stored = _stored_bytes(database_url)
    assert stored  # something was read
    for plain in (secret, secret.removeprefix("whsec_"), SMTP_PASSWORD, MQTT_PASSWORD, hook_path):
        assert plain.encode() not in stored, plain
    if database_url.startswith("sqlite"):
        for path in _sqlite_files(database_url):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    data_dir = hub.services.settings.data_dir
    for name in ("secrets-key", "audit-key", "hub-key.pem", "audit-checkpoints.log"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name


async def test_plaintext_settings_from_before_are_sealed_when_the_key_is_first_used(
    database_url: str, tmp_path: Path
) -> None:
    legacy_secret = new_secret()
    legacy = {"url": "https://receiver.example/hook", "format": "cap", "secret": legacy_secret}
    old = Store(database_url)  # as an earlier version ran: no keys
    old.migrate()
    now = datetime.now(UTC)

    def write_as_before(connection: Any) -> None:
        connection.execute(
            insert(organizations).values(
                id="rx", name="Newsroom", kind="receiver", created_at=now, updated_at=now
            )
        )
        connection.execute(
            insert(endpoints).values(
                id="ep",
                organization_id="rx",
                channel="webhook",
                config=json.dumps(legacy),
                filter="{}",
                active=True,
                created_at=now,
                updated_at=now,
            )
        )

    old.run_write(write_as_before)
    old.close()
    assert legacy_secret.encode() in _stored_bytes(database_url)
    sqlite = database_url.startswith("sqlite")
    if sqlite:  # earlier versions left the file as the umask made it
        for path in _sqlite_files(database_url):
            path.chmod(0o644)

    keys = load_keys(tmp_path / "data", audit_key_file=None, secrets_key_file=None)
    upgraded = Store(database_url, keys=keys)
    upgraded.open()
    try:
        assert legacy_secret.encode() not in _stored_bytes(database_url)
        if sqlite:
            for path in _sqlite_files(database_url):
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        row = upgraded.run_read(lambda c: endpoint_queries.get(c, "ep"))
        assert json.loads(row.config) == legacy
    finally:
        upgraded.close()


async def test_settings_copied_or_planted_around_the_hub_do_not_open(hub: Hub) -> None:
    rx = await hub.org("Newsroom", None, [], kind="receiver")
    victim = await _endpoint(hub, rx, channel="webhook", url="https://victim.example/hook")
    mine = await _endpoint(hub, rx, channel="webhook", url="https://attacker.example/hook")

    def copy_settings(connection: Any) -> None:
        sealed = connection.execute(
            select(endpoints.c.config).where(endpoints.c.id == mine["id"])
        ).scalar_one()
        connection.execute(
            update(endpoints).where(endpoints.c.id == victim["id"]).values(config=sealed)
        )

    await hub.services.store.write(copy_settings)
    row = await hub.services.store.read(lambda c: endpoint_queries.get(c, victim["id"]))
    assert "attacker" not in row.config
    assert json.loads(row.config) == {}

    # Nor is plain text written around the hub taken, once its settings are sealed.
    planted = {"url": "https://attacker.example/hook", "format": "cap", "secret": new_secret()}

    def plant(connection: Any) -> None:
        connection.execute(
            update(endpoints)
            .where(endpoints.c.id == victim["id"])
            .values(config=json.dumps(planted))
        )

    await hub.services.store.write(plant)
    row = await hub.services.store.read(lambda c: endpoint_queries.get(c, victim["id"]))
    assert json.loads(row.config) == {}
