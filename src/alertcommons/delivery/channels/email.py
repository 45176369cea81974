"""Email: the alert as plain text and HTML to a list of addresses, through an SMTP server.

Japanese subjects are encoded per RFC 2047 by the standard library's email policy; the body
is UTF-8. The signed CAP travels as an attachment so a recipient can still verify it.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, ClassVar

from alertcommons.delivery.channels import ChannelConfigError, credentials, masked
from alertcommons.delivery.message import Message
from alertcommons.delivery.result import Delivered, DeliveryResult, FailedForGood, RetryAfter


class EmailChannel:
    name: ClassVar[str] = "email"

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        to = config.get("to")
        if (
            not isinstance(to, list)
            or not to
            or not all(isinstance(a, str) and "@" in a for a in to)
        ):
            raise ChannelConfigError("email needs 'to': a list of addresses")
        host = config.get("smtp_host", "127.0.0.1")
        port = config.get("smtp_port", 25)
        if not isinstance(host, str) or not isinstance(port, int) or not 0 < port < 65536:
            raise ChannelConfigError("email 'smtp_host' is a name, 'smtp_port' a port number")
        sender = config.get("from", "alerts@alertcommons.invalid")
        if not isinstance(sender, str) or "@" not in sender:
            raise ChannelConfigError("email 'from' is an address")
        checked = {"to": to, "smtp_host": host, "smtp_port": port, "from": sender}
        checked.update(credentials(config))
        checked["starttls"] = bool(config.get("starttls", False))
        return checked

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return masked(config, "password")

    async def send(self, message: Message, config: dict[str, Any]) -> DeliveryResult:
        email = compose(message, config)
        try:
            refused = await asyncio.to_thread(_deliver, email, config)
        except smtplib.SMTPRecipientsRefused as exc:
            return FailedForGood(f"every recipient refused: {sorted(exc.recipients)}")
        except (smtplib.SMTPException, OSError) as exc:
            return RetryAfter(f"SMTP: {exc}")
        if refused:
            return Delivered(f"refused by {sorted(refused)}")
        return Delivered()

    async def close(self) -> None:
        return None


def compose(message: Message, config: dict[str, Any]) -> EmailMessage:
    info = (message.record.get("alert", {}).get("info") or [{}])[0]
    headline = info.get("headline") or info.get("event") or message.identifier
    prefix = {"Update": "[更新] ", "Cancel": "[解除] "}.get(message.msg_type, "")
    email = EmailMessage()
    email["Subject"] = f"{prefix}{headline}"
    email["From"] = config["from"]
    email["To"] = ", ".join(config["to"])
    email["Message-ID"] = make_msgid(idstring=message.alert_id, domain="alertcommons.invalid")
    email["X-Alert-Commons-Alert"] = message.alert_id
    email["X-Alert-Commons-Delivery"] = message.delivery_id
    lines = [headline, ""]
    for key in ("description", "instruction"):
        if info.get(key):
            lines += [info[key], ""]
    lines += [f"{info.get('senderName') or message.sender} — {message.record.get('sent', '')}"]
    text = "\n".join(lines)
    email.set_content(text)
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    email.add_alternative(
        f'<!doctype html><html lang="ja"><body><h1>{html.escape(headline)}</h1>'
        f"{paragraphs}</body></html>",
        subtype="html",
    )
    email.add_attachment(
        message.cap_xml, maintype="application", subtype="cap+xml", filename="alert.cap"
    )
    return email


def _deliver(email: EmailMessage, config: dict[str, Any]) -> dict[str, Any]:
    with smtplib.SMTP(config["smtp_host"], config["smtp_port"], timeout=15) as smtp:
        if config.get("starttls"):
            smtp.starttls()
        if "username" in config:
            smtp.login(config["username"], config.get("password", ""))
        refused: dict[str, Any] = smtp.send_message(email)
        return refused
