"""Email through a real SMTP server (aiosmtpd): header-safe, one recipient never sees another,
STARTTLS that verifies the server, and long texts kept off the event loop.

Issue 10 row 13 (a CR/LF in a headline: ValueError on every retry), issue 11 rows 11
(a self-signed server got the SMTP password), 12 (a 300,000-character headline burned the
loop) and 13 (To: listed every resident).
"""

from __future__ import annotations

import asyncio
import email
import ipaddress
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alertcommons.delivery.channels.email import EmailChannel
from alertcommons.delivery.outbound import LOOPBACK, UNDELIVERABLE, OutboundPolicy
from alertcommons.delivery.result import Delivered
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.messages import message
from tests.support.server import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.anyio
TOKYO = "metro.tokyo.jp"


@dataclass
class Inbox:
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        self.logins.append(bytes(data.password))
        return AuthResult(success=True)


@dataclass(frozen=True)
class Server:
    port: int
    inbox: Inbox
    cert_pem: str = ""


def _self_signed(directory: Path) -> tuple[Path, Path, str]:
    """CN=attacker.invalid, valid for 127.0.0.1: trusted only by whoever is given its PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker.invalid")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem.decode()


@pytest.fixture
def smtp() -> Iterator[Server]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Server(controller.port, inbox)
    controller.stop()


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[Server]:
    """STARTTLS required before AUTH, with a self-signed certificate."""
    cert, key, pem = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield Server(controller.port, inbox, pem)
    controller.stop()


async def _receiver(hub: Hub) -> tuple[dict[str, Any], dict[str, Any]]:
    hub.dispatch_fast()
    return await hub.org("東京都", TOKYO, ["13"]), await hub.org("住民", None, [], kind="receiver")


async def _endpoint(hub: Hub, rx: dict[str, Any], **body: Any) -> str:
    response = await hub.client.post(
        "/api/v1/endpoints", json={"channel": "email", **body}, headers=rx["headers"]
    )
    assert response.status_code == 201, response.text
    endpoint_id: str = response.json()["id"]
    return endpoint_id


async def _publish(hub: Hub, issuer: dict[str, Any], **alert: Any) -> str:
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert(TOKYO, ["131016"], **alert)),
        headers={**issuer["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


async def _view(hub: Hub, rx: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
    response = await hub.client.get(f"/api/v1/endpoints/{endpoint_id}", headers=rx["headers"])
    view: dict[str, Any] = response.json()
    return view


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_control_characters_in_a_headline_never_reach_a_header(
    hub: Hub, smtp: Server
) -> None:
    issuer, rx = await _receiver(hub)
    endpoint_id = await _endpoint(
        hub, rx, to=["bousai@example.jp"], smtp_host="127.0.0.1", smtp_port=smtp.port
    )
    await _publish(hub, issuer, headline="evil\r\nBcc: victim@evil.example\r\n\r\nbody")
    await until(lambda: smtp.inbox.messages)
    (recipients, raw), *_ = smtp.inbox.messages
    assert recipients == ["bousai@example.jp"]
    message = email.message_from_bytes(raw, policy=default)
    assert message["Bcc"] is None
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Subject"].startswith("evil Bcc: victim@evil.example")

    async def recorded() -> bool:  # the outcome is recorded just after the server answered
        return (await _view(hub, rx, endpoint_id))["last_success_at"] is not None

    await until(recorded)
    assert (await _view(hub, rx, endpoint_id))["last_error"] is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_each_resident_sees_only_their_own_address(hub: Hub, smtp: Server) -> None:
    issuer, rx = await _receiver(hub)
    residents = ["a@example.jp", "b@example.jp", "c@example.jp"]
    await _endpoint(hub, rx, to=residents, smtp_host="127.0.0.1", smtp_port=smtp.port)
    await _publish(hub, issuer)
    await until(lambda: smtp.inbox.messages)
    (recipients, raw), *_ = smtp.inbox.messages
    assert sorted(recipients) == residents  # every one reached, as an envelope recipient
    message = email.message_from_bytes(raw, policy=default)
    headers = "".join(f"{name}: {value}\n" for name, value in message.items())
    assert not any(address in headers for address in residents), headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_starttls_refuses_a_server_it_cannot_verify(hub: Hub, tls_smtp: Server) -> None:
    issuer, rx = await _receiver(hub)
    login = {"username": "bousai", "password": "the-smtp-password"}
    base = {"to": ["a@example.jp"], "smtp_host": "127.0.0.1", "smtp_port": tls_smtp.port}
    unverified = await _endpoint(hub, rx, **base, **login, starttls=True)
    await _publish(hub, issuer)

    async def failed() -> bool:
        return bool((await _view(hub, rx, unverified))["last_error"] == UNDELIVERABLE)

    await until(failed)
    assert tls_smtp.inbox.logins == []  # the password never went to the impostor
    assert tls_smtp.inbox.messages == []

    # Given the server's certificate as its CA, the same server is trusted. (No backfill:
    # the alert already in force would make it two messages, and maybe two logins.)
    await _endpoint(
        hub, rx, **base, **login, starttls=True, tls_ca=tls_smtp.cert_pem, backfill=False
    )
    await _publish(hub, issuer)
    await until(lambda: tls_smtp.inbox.messages)
    assert tls_smtp.inbox.logins == [b"the-smtp-password"]


async def test_a_huge_headline_is_built_off_the_event_loop(smtp: Server) -> None:
    channel = EmailChannel(OutboundPolicy.from_setting(LOOPBACK))
    config = channel.check_config(
        {"to": ["a@example.jp"], "smtp_host": "127.0.0.1", "smtp_port": smtp.port}
    )
    headline = "大雨" * 150_000  # 300,000 characters
    big = message(
        sender=TOKYO,
        identifier="big",
        record={"alert": {"info": [{"headline": headline, "description": headline}]}},
    )
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        result = await channel.send(big, config)
    finally:
        ticking.cancel()
    assert isinstance(result, Delivered), result
    assert max(gaps) < 0.5, max(gaps)  # built on the loop, it took seconds
    (_, raw), *_ = smtp.inbox.messages
    subject = email.message_from_bytes(raw, policy=default)["Subject"]
    assert len(subject) <= 200
