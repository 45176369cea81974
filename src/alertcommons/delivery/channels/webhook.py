"""Webhook: POST the signed CAP XML (or the JSON record, or cell-broadcast text for a
carrier's gateway) to the receiver's URL.

Signed per the Standard Webhooks convention: ``webhook-id`` (the alert's id: the same on
every retry), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body`` with the endpoint's secret, whose
``whsec_`` form carries the key in base64).

Answers: 2xx delivered; 410 Gone fails for good and disables the endpoint; 408, 425, 429 and
5xx retry (honouring ``Retry-After``); other 4xx fail for good; network errors and timeouts
retry.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import time
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

from alertcommons.delivery import cellbroadcast
from alertcommons.delivery.channels import ChannelConfigError, Finished, Outgoing
from alertcommons.delivery.http import UNSAFE_URL, HTTPError, HTTPPool, Response
from alertcommons.delivery.message import Message
from alertcommons.delivery.outbound import OutboundPolicy
from alertcommons.delivery.result import Delivered, DeliveryResult, FailedForGood, RetryAfter

SECRET_PREFIX = "whsec_"
FORMATS = ("cap", "json", "cell-broadcast")
_RETRYABLE = {408, 425, 429}

log = logging.getLogger(__name__)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


@lru_cache(maxsize=8192)
def _key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret, decoded once per endpoint, not once per send."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    # One HMAC over id.timestamp.body, in one C call (hmac.digest): building an HMAC object
    # cost more than copying the body behind the id and timestamp.
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.digest(_key(secret), signed, "sha256")).decode()


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: recompute, and compare with any of the listed signatures."""
    expected = sign(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body).split(
        ",", 1
    )[1]
    offered = [part.split(",", 1)[-1] for part in headers["webhook-signature"].split()]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


class WebhookChannel:
    name: ClassVar[str] = "webhook"

    def __init__(self, policy: OutboundPolicy | None = None) -> None:
        self.policy = policy or OutboundPolicy()
        self._pool = HTTPPool(policy=self.policy)

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        url = config.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ChannelConfigError("webhook needs 'url', an http:// or https:// address")
        if UNSAFE_URL.search(url):
            raise ChannelConfigError("webhook 'url' must not hold spaces or control characters")
        parts = urlsplit(url)
        if not parts.hostname:
            raise ChannelConfigError("webhook 'url' has no host")
        if "@" in parts.netloc:
            # Never sent as credentials, and 'https://bank.example@evil.example/' misleads.
            raise ChannelConfigError("webhook 'url' must not carry user@ credentials")
        try:
            parts.port  # noqa: B018 - raises on a port out of range
        except ValueError:
            raise ChannelConfigError("webhook 'url' has an invalid port") from None
        refusal = self.policy.refusal(parts.hostname)
        if refusal:
            raise ChannelConfigError(f"webhook 'url': {refusal}")
        body_format = config.get("format", "cap")
        if body_format not in FORMATS:
            raise ChannelConfigError(
                "webhook 'format' is 'cap' (signed CAP XML), 'json' or 'cell-broadcast'"
            )
        secret = config.get("secret") or new_secret()
        if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
            raise ChannelConfigError("webhook 'secret' must look like whsec_<base64>")
        try:
            if len(base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)) < 16:
                raise ValueError
        except ValueError:
            raise ChannelConfigError("webhook 'secret' needs at least 16 bytes of base64") from None
        timeout = config.get("timeout_seconds", 10)
        if not isinstance(timeout, int | float) or not 0.5 <= timeout <= 60:
            raise ChannelConfigError("webhook 'timeout_seconds' is a number from 0.5 to 60")
        return {"url": url, "format": body_format, "secret": secret, "timeout_seconds": timeout}

    def public_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "secret": SECRET_PREFIX + "…"}

    async def send(self, message: Message, config: dict[str, Any]) -> DeliveryResult:
        body, headers, seconds = _request(message, message.delivery_id, config)
        try:
            response = await self._pool.post_head(config["url"], body, headers, seconds)
        except HTTPError as exc:
            return RetryAfter(str(exc))
        return _result(response)

    def send_many(self, outgoing: list[Outgoing], finished: Finished) -> None:
        """Queue every POST on the pool's send loops (``HTTPPool.submit``); each request is
        built and signed only when its turn comes, so the first goes out at once."""

        def finish(item: Outgoing, outcome: Response | Exception) -> None:
            if isinstance(outcome, Response):
                finished(item, _result(outcome))
            elif isinstance(outcome, HTTPError):
                finished(item, RetryAfter(str(outcome)))
            else:  # a bug building the request: logged, and tried again later
                log.error("webhook request could not be built", exc_info=outcome)
                finished(item, RetryAfter(f"internal error: {outcome!r}"))

        submit = self._pool.submit
        for item in outgoing:
            try:
                submit(item.config["url"], item, _build, finish, first=item.urgent)
            except HTTPError as exc:  # an unusable URL, as ``send`` answers it
                finished(item, RetryAfter(str(exc)))
            except Exception as exc:  # this one only: the others are queued already
                log.error("webhook could not be queued", exc_info=exc)
                finished(item, RetryAfter(f"internal error: {exc!r}"))

    async def close(self) -> None:
        await self._pool.close()


def _build(item: Outgoing) -> tuple[bytes, str, float]:
    item.started = time.perf_counter()
    return _request(item.message, item.delivery_id, item.config)


def _request(
    message: Message, delivery_id: str, config: dict[str, Any]
) -> tuple[bytes, str, float]:
    """The body, the header lines and the seconds allowed for one delivery's POST.
    ``message`` may be the alert's own, shared by its deliveries: the CAP body is the same
    bytes for all, and only the JSON bodies carry ``delivery_id``."""
    body_format = config.get("format")
    if body_format == "json":
        body, content_type = message.for_delivery(delivery_id).json_body(), "application/json"
    elif body_format == "cell-broadcast":
        body = message.for_delivery(delivery_id).rendered("cell-broadcast", _cell_broadcast)
        content_type = "application/json"
    else:
        body, content_type = message.cap_xml, "application/cap+xml"
    timestamp = int(time.time())
    alert_id = message.alert_id
    # The header block as text at once (the hub's own ids and a base64 signature: nothing
    # here can carry a line break), not a dict joined again by the pool.
    headers = (
        f"Content-Type: {content_type}\r\nwebhook-id: {alert_id}\r\n"
        f"webhook-timestamp: {timestamp}\r\n"
        f"webhook-signature: {sign(config['secret'], alert_id, timestamp, body)}\r\n"
        f"X-Alert-Commons-Delivery: {delivery_id}\r\n"
        "User-Agent: AlertCommons-Webhook/1"
    )
    return body, headers, float(config.get("timeout_seconds", 10))


def _result(response: Response) -> DeliveryResult:
    status = response.status
    if 200 <= status < 300:
        return Delivered(f"HTTP {status}")
    if status == 410:
        return FailedForGood("HTTP 410 Gone: the receiver retired this endpoint", disable=True)
    if status >= 500 or status in _RETRYABLE:
        return RetryAfter(f"HTTP {status}", _retry_after(response.headers.get("retry-after")))
    return FailedForGood(f"HTTP {status}: the receiver refused the message")


def _cell_broadcast(message: Message) -> dict[str, Any]:
    """What a carrier's gateway sends to handsets: each language in cell-broadcast pages,
    with what identifies the alert (the same text as GET /api/v1/alerts/{id}/cell-broadcast).
    The delivery's own id goes in front of it (:meth:`Message.rendered`): this part is the
    same for every endpoint, and computed once per alert."""
    return {
        "alert_id": message.alert_id,
        "sender": message.sender,
        "identifier": message.identifier,
        "msgType": message.msg_type,
        "status": message.status,
        "urgency": message.urgency,
        "severity": message.severity,
        "areas": list(message.areas),
        "expires": message.record.get("expires"),
        "cell_broadcast": cellbroadcast.for_alert(message.record.get("alert") or {}),
    }


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), 3600.0)
