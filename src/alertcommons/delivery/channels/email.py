"""Email: the alert as plain text and HTML to a list of addresses, through an SMTP server.

Japanese subjects are encoded per RFC 2047 by the standard library's email policy; the body
is UTF-8. The signed CAP travels as an attachment so a recipient can still verify it.

What a hostile issuer or a hostile server could do, and what holds instead:

* a headline is issuer text: control characters (CR, LF, …) in it never reach a header
  (they became a ``ValueError`` on every retry), and the Subject is cut to a summary length;
* residents of one endpoint must not see each other: the message is addressed to
  ``undisclosed-recipients:;`` and every address is only an envelope recipient (Bcc);
* STARTTLS verifies the server's certificate (chain and host name) against the system's CAs,
  or the endpoint's own ``tls_ca`` (PEM); ``tls_verify: false`` opts out, explicitly;
* the server address passes the outbound policy at connect time, and the connection goes to
  the address that was checked; failures read the same whatever the server said;
* building and sending run on the SMTP thread pool (``alertcommons.pools``), never on the
  event loop, with a deadline for the whole exchange so a server that trickles bytes cannot
  hold a thread for hours.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import smtplib
import socket
import ssl
import unicodedata
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, ClassVar

from alertcommons import pools
from alertcommons.delivery.channels import ChannelConfigError, checked_host, credentials, masked
from alertcommons.delivery.message import Message
from alertcommons.delivery.outbound import UNDELIVERABLE, OutboundPolicy, OutboundRefused
from alertcommons.delivery.result import Delivered, DeliveryResult, FailedForGood, RetryAfter

log = logging.getLogger(__name__)

SUBJECT_CHARS = 200
EXCHANGE_SECONDS = 60.0  # connect to QUIT, whatever the per-read timeouts allow
SOCKET_SECONDS = 15.0
PER_SERVER = 4  # sends at once to one SMTP server, so one server cannot fill the pool
_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+$")


class EmailChannel:
    name: ClassVar[str] = "email"

    def __init__(self, policy: OutboundPolicy | None = None) -> None:
        self.policy = policy or OutboundPolicy()
        self._servers: dict[tuple[str, int], asyncio.Semaphore] = {}

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        to = config.get("to")
        if not isinstance(to, list) or not to or not all(_is_address(a) for a in to):
            raise ChannelConfigError("email needs 'to': a list of addresses")
        host = config.get("smtp_host", "127.0.0.1")
        port = config.get("smtp_port", 25)
        if not isinstance(host, str) or not isinstance(port, int) or not 0 < port < 65536:
            raise ChannelConfigError("email 'smtp_host' is a name, 'smtp_port' a port number")
        sender = config.get("from", "alerts@alertcommons.invalid")
        if not _is_address(sender):
            raise ChannelConfigError("email 'from' is an address")
        checked = {
            "to": to,
            "smtp_host": checked_host(self.policy, "email", "smtp_host", host),
            "smtp_port": port,
            "from": sender,
        }
        checked.update(credentials(config))
        checked["starttls"] = bool(config.get("starttls", False))
        verify = config.get("tls_verify", True)
        if not isinstance(verify, bool):
            raise ChannelConfigError("email 'tls_verify' is true (the default) or false")
        if not verify:
            checked["tls_verify"] = False
        ca = config.get("tls_ca")
        if ca is not None:
            if not isinstance(ca, str):
                raise ChannelConfigError("email 'tls_ca' is a PEM certificate (text)")
            try:
                ssl.create_default_context(cadata=ca)
            except (ssl.SSLError, ValueError):
                raise ChannelConfigError("email 'tls_ca' is not a PEM certificate") from None
            checked["tls_ca"] = ca
        return checked

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return masked(config, "password")

    async def send(self, message: Message, config: dict[str, Any]) -> DeliveryResult:
        host, port = config["smtp_host"], config["smtp_port"]
        try:
            address = await self.policy.resolve(host, port)
        except OutboundRefused:
            return RetryAfter(UNDELIVERABLE)
        session = _Session(host, address, port)
        limit = self._servers.setdefault((host, port), asyncio.Semaphore(PER_SERVER))
        async with limit:
            work = asyncio.get_running_loop().run_in_executor(
                pools.pool("smtp"), session.deliver, message, config
            )
            # Retrieved whatever happens: a send given up (deadline, shutdown) still ends.
            work.add_done_callback(_ignore_outcome)
            try:
                done, _ = await asyncio.wait({work}, timeout=EXCHANGE_SECONDS)
            finally:
                if not work.done():
                    session.abort()  # wakes the thread out of its blocking read
            if not done:
                log.info("email to %s:%d: no end within %g s", host, port, EXCHANGE_SECONDS)
                return RetryAfter(UNDELIVERABLE)
        try:
            work.result()
        except smtplib.SMTPRecipientsRefused:
            return FailedForGood("the SMTP server refused every recipient")
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            log.info("email to %s:%d: %r", host, port, exc)
            return RetryAfter(UNDELIVERABLE)
        refused = session.refused
        if refused:
            return Delivered(f"refused by the server for {len(refused)} of {len(config['to'])}")
        return Delivered()

    async def close(self) -> None:
        return None


def _is_address(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and bool(_ADDRESS.match(value))


def _ignore_outcome(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so asyncio does not log it as lost


def header_text(text: str, limit: int = SUBJECT_CHARS) -> str:
    """Issuer text fit for one header line: no control characters, no line breaks, bounded."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in text[: limit * 4]
    )
    single = " ".join(cleaned.split())
    return single if len(single) <= limit else single[: limit - 1] + "…"


def compose(message: Message, config: dict[str, Any]) -> EmailMessage:
    info = (message.record.get("alert", {}).get("info") or [{}])[0]
    headline = info.get("headline") or info.get("event") or message.identifier
    prefix = {"Update": "[更新] ", "Cancel": "[解除] "}.get(message.msg_type, "")
    email = EmailMessage()
    email["Subject"] = header_text(f"{prefix}{headline}")
    email["From"] = config["from"]
    # Every address is an envelope recipient only: residents never see one another.
    email["To"] = "undisclosed-recipients:;"
    email["Message-ID"] = make_msgid(
        idstring=header_text(message.alert_id, 64), domain="alertcommons.invalid"
    )
    email["X-Alert-Commons-Alert"] = header_text(message.alert_id, 200)
    email["X-Alert-Commons-Delivery"] = header_text(message.delivery_id, 200)
    lines = [headline, ""]
    for key in ("description", "instruction"):
        if info.get(key):
            lines += [info[key], ""]
    lines += [f"{info.get('senderName') or message.sender} — {message.record.get('sent', '')}"]
    text = "\n".join(lines)
    # base64, not quoted-printable: quopri's str.translate holds the GIL ~0.15 s per MB of
    # text, stalling the event loop even from a worker thread; base64 is linear and chunked.
    email.set_content(text, cte="base64")
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    email.add_alternative(
        f'<!doctype html><html lang="ja"><body><h1>{html.escape(headline)}</h1>'
        f"{paragraphs}</body></html>",
        subtype="html",
        cte="base64",
    )
    email.add_attachment(
        message.cap_xml, maintype="application", subtype="cap+xml", filename="alert.cap"
    )
    return email


def tls_context(config: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=config.get("tls_ca"))
    if config.get("tls_verify") is False:  # the endpoint opted out, explicitly
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Session:
    """One SMTP exchange on a worker thread; :meth:`abort` ends it from the event loop."""

    def __init__(self, host: str, address: str, port: int) -> None:
        self.host, self.address, self.port = host, address, port
        self.sock: socket.socket | None = None
        self.smtp: smtplib.SMTP | None = None
        self.refused: dict[str, Any] = {}
        self.aborted = False

    def deliver(self, message: Message, config: dict[str, Any]) -> None:
        email = compose(message, config)  # here, off the loop: long texts cost CPU
        with _PinnedSMTP(self) as smtp:
            if config.get("starttls"):
                smtp.starttls(context=tls_context(config))
            if "username" in config:
                smtp.login(config["username"], config.get("password", ""))
            self.refused = smtp.send_message(
                email, from_addr=config["from"], to_addrs=list(config["to"])
            )

    def connected(self, sock: socket.socket) -> None:
        self.sock = sock
        if self.aborted:
            self.abort()

    def abort(self) -> None:
        self.aborted = True
        # After STARTTLS the plain socket is detached and smtp.sock is the TLS one.
        for sock in (self.sock, getattr(self.smtp, "sock", None)):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP that connects to the checked address, yet names the host for TLS."""

    def __init__(self, session: _Session) -> None:
        self._session = session
        session.smtp = self
        super().__init__(session.host, session.port, timeout=SOCKET_SECONDS)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((self._session.address, port), timeout, self.source_address)
        self._session.connected(sock)
        return sock
