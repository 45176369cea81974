"""schemathesis against the OpenAPI spec of a running hub: no input may produce a 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import HubProcess

ADMIN = "ac_schemathesis-admin-token-0123456789abcdefghijk"


def _schemathesis() -> str:
    beside = Path(sys.executable).parent / "schemathesis"
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed (it is a dev dependency)")
    return found


def test_no_server_errors_for_any_generated_request(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    try:
        result = subprocess.run(
            [
                _schemathesis(),
                "run",
                f"{hub.url}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--header",
                f"Authorization: Bearer {ADMIN}",
                "--max-examples",
                "40",
                # a live stream never ends; it has its own tests (tests/delivery/test_stream.py)
                "--exclude-path",
                "/api/v1/stream",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        hub.stop()
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert " passed" in summary
    assert "unexpected error" not in (tmp_path / "data" / "hub.log").read_text()
