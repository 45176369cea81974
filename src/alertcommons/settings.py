"""Settings: command-line flags, then environment (``ALERTCOMMONS_*``), then defaults.

Every field is documented in ``docs/operations.md``; a test keeps the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

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
    jma_feed_url: str | None = None  # e.g. https://www.data.jma.go.jp/developer/xml/feed/
    jma_feeds: str = "regular,extra,eqvol,other"
    jma_poll_seconds: float = 60.0
    map_tiles_url: str | None = None  # e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png
    map_tiles_attribution: str = ""

    @property
    def store_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

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


def setting_names() -> list[str]:
    return [ENV_PREFIX + spec.name.upper() for spec in fields(Settings)]


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    text = str(kind)
    try:
        if "Path" in text:
            return Path(raw)
        if "float" in text:
            return float(raw)
        if "int" in text:
            return int(raw)
        if "Secret" in text:
            return Secret(raw)
        return str(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: '{raw}' is not valid") from None
