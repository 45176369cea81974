"""``alertcommons init`` does serve's whole set-up, says what it made, and is safe to repeat."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509

from tests.commands.conftest import Run

MADE = ("alertcommons.db", "audit-key", "secrets-key", "hub-key.pem", "hub-cert.pem")


def test_init_makes_every_key_serve_would_and_names_each(tmp_path: Path, run_cli: Run) -> None:
    data = tmp_path / "data"
    first = run_cli("init", "--data-dir", str(data))
    assert first.code == 0, first.err
    for name in MADE:
        assert (data / name).is_file(), name
        assert f"made {data / name}" in first.out, first.out
    assert stat.S_IMODE((data / "hub-key.pem").stat().st_mode) == 0o600
    x509.load_pem_x509_certificate((data / "hub-cert.pem").read_bytes())  # a real certificate
    assert "admin token (shown once" in first.out

    key = (data / "hub-key.pem").read_bytes()
    again = run_cli("init", "--data-dir", str(data))
    assert again.code == 0, again.err
    assert "made " not in again.out and "nothing made" in again.out
    assert (data / "hub-key.pem").read_bytes() == key  # never replaced

    audit = run_cli("audit", "verify", "--data-dir", str(data))
    assert audit.code == 0 and "intact" in audit.out
