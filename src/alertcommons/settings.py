"""Settings: command-line flags, then environment (``ALERTCOMMONS_*``), then defaults.

Every field is documented in ``docs/operations.md``; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alertcommons.delivery.outbound import OutboundPolicy
from alertcommons.errors import AlertCommonsError
from alertcommons.store.engine import sqlite_url

ENV_PREFIX = "ALERTCOMMONS_"


class SettingsError(AlertCommonsError):
    pass


class Secret(str):
    """A string that never shows itself in ``repr`` (and so never in logs)."""

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("alertcommons-data")
    database_url: str | None = None  # default: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = 8080
    signing_key: Path | None = None  # default: data_dir/hub-key.pem, made on first start
    signing_cert: Path | None = None  # default: data_dir/hub-cert.pem
    max_body_bytes: int = 1024 * 1024
    max_sent_age_seconds: float = 24 * 3600.0  # refuse alerts sent longer ago; 0: no limit
    max_future_skew_seconds: float = 300.0  # refuse alerts sent further ahead; 0: no limit
    hub_name: str = "Alert Commons hub"
    public_url: str | None = None
    admin_token: Secret | None = field(default=None, repr=False)
    delivery_lease_seconds: float = 30.0
    header_timeout_seconds: float = 10.0
    send_timeout_seconds: float = 30.0
    max_connections: int = 20000
    max_stream_clients: int = 10000
    dispatch: bool = True  # this process sends deliveries (serve --no-dispatch: API only)
    nats_url: str | None = None  # e.g. nats://127.0.0.1:4222: live events across nodes
    cluster_name: str = "alertcommons"  # NATS subject and stream prefix of this cluster
    log_format: str = "plain"  # the access and event log: plain (key=value) or json lines
    log_summary_seconds: float = 10.0  # how often a delivery-outcome summary line is written
    jma_feed_url: str | None = None  # e.g. https://www.data.jma.go.jp/developer/xml/feed/
    jma_feeds: str = "regular,extra,eqvol,other"
    jma_poll_seconds: float = 60.0
    jma_allowed_hosts: str = ""  # hosts besides the feed's own that its links may point to
    jma_read_seconds: float = 5.0  # one read of a JMA feed or report
    jma_fetch_seconds: float = 20.0  # one whole fetch of a JMA feed or report
    cap_sources: str = ""  # JSON list of CAP feeds to republish (hub/cap_ingest.py)
    cap_source_poll_seconds: float = 60.0
    cap_source_reload_seconds: float = 5.0  # how soon sources added at run time start everywhere
    cap_source_directories: str = ""  # folders under which admins may add directory sources
    map_tiles_url: str | None = None  # e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png
    map_tiles_attribution: str = ""
    # Keys kept outside the database (default: data_dir/audit-key, data_dir/secrets-key, made
    # on first start); every node on one PostgreSQL needs the same files.
    audit_key_file: Path | None = None
    secrets_key_file: Path | None = None
    audit_checkpoint_seconds: float = 10.0
    login_max_failures: int = 5  # console passwords checked per account per lock window
    login_lock_seconds: float = 900.0  # the window, fixed from its first failed sign-in
    speech_repeat: int = 2  # times a loudspeaker announcement says the message
    speech_in_cap: int = 1  # 1: hub-built messages are signed with their announcement's resource
    # Networks receivers' webhooks, SMTP servers and brokers may be in, beyond public ones.
    outbound_allow: str = ""  # e.g. 127.0.0.0/8,::1/128

    @property
    def outbound_policy(self) -> OutboundPolicy:
        try:
            return OutboundPolicy.from_setting(self.outbound_allow)
        except ValueError as exc:
            raise SettingsError(f"{ENV_PREFIX}OUTBOUND_ALLOW: {exc}") from None

    @property
    def store_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def public_base(self) -> str:
        """Where links in feeds, pages and QR codes point: the configured public URL, else this
        hub's own loopback address. Never the request's Host header, which a client chooses
        (and a shared cache would then serve its links to everyone)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def check_public_url(self) -> None:
        """A hub reachable from other hosts must be told its public address."""
        if self.public_url:
            scheme = self.public_url.split("://", 1)[0].lower()
            if scheme not in ("http", "https") or "://" not in self.public_url:
                raise SettingsError(
                    f"{ENV_PREFIX}PUBLIC_URL: '{self.public_url}' is not an http(s) URL"
                )
            return
        if not _is_loopback(self.host):
            raise SettingsError(
                f"{ENV_PREFIX}PUBLIC_URL is required when the hub listens on {self.host!r} "
                "(not loopback): links in feeds and pages are built from it"
            )

    @property
    def key_path(self) -> Path:
        return self.signing_key or self.data_dir / "hub-key.pem"

    @property
    def cert_path(self) -> Path:
        return self.signing_cert or self.data_dir / "hub-cert.pem"

    @property
    def generates_key(self) -> bool:
        return self.signing_key is None

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **flags: Any) -> Settings:
        """Build settings from flags (those not ``None``), the environment, and defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            flag = flags.get(spec.name)
            raw = flag if flag is not None else env.get(ENV_PREFIX + spec.name.upper())
            if raw is None or raw == "":
                continue
            values[spec.name] = _coerce(spec.name, spec.type, raw)
        return cls(**values)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def setting_names() -> list[str]:
    return [ENV_PREFIX + spec.name.upper() for spec in fields(Settings)]


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    text = str(kind)
    try:
        if "Path" in text:
            return Path(raw)
        if "bool" in text:
            if isinstance(raw, bool):
                return raw
            value = str(raw).strip().lower()
            if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(value)
            return value in ("1", "true", "yes", "on")
        if "float" in text:
            return _in_range(name, float(raw))
        if "int" in text:
            return _in_range(name, int(raw))
        if "Secret" in text:
            return Secret(raw)
        if name in _CHECKED:
            return _CHECKED[name](name, str(raw))
        return str(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: '{raw}' is not valid") from None


def _nats_url(name: str, raw: str) -> str:
    """One NATS server's URL: a typo here would otherwise leave every node polling, with
    nothing but a retry line in the log to show for it."""
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        parts = urlsplit("")
    if (
        re.search(r"[\x00-\x20\x7f]", raw)
        or parts.scheme not in ("nats", "tls", "ws", "wss")
        or not parts.hostname
    ):
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()}: '{raw}' is not a NATS URL "
            "(nats://host:4222, tls://, ws:// or wss://)"
        )
    return raw


def _cluster_name(name: str, raw: str) -> str:
    """The prefix of NATS subjects and stream names: letters, digits, '-' and '_' only (a
    dot, a space or a wildcard would change which subjects it means)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", raw):
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()}: '{raw}' may hold only letters, digits, '-' and '_'"
        )
    return raw


_CHECKED = {"nats_url": _nats_url, "cluster_name": _cluster_name}


def _in_range(name: str, value: float) -> Any:
    """Every number a person sets is a size, a count, a time or a port: never negative, never
    infinite or NaN (where 0 means "no limit", the setting's row in operations.md says so)."""
    high = 65535 if name == "port" else float("inf")
    if not (0 <= value <= high) or value != value or value == float("inf"):
        limit = f"from 0 to {high}" if name == "port" else "a finite number, 0 or more"
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {value} is not valid ({limit})")
    return value
