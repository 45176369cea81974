"""The curl examples in docs/api.md, run in order against a real hub."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import HubProcess

ADMIN = "ac_docs-admin-token-0123456789abcdefghijklmnopqr"
DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_api_doc_examples_run(tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to run the documented examples")
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 5
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    try:
        script = "set -euo pipefail\n" + "\n".join(blocks)
        work = tmp_path / "work"
        work.mkdir()
        env = {
            **os.environ,
            "HUB": hub.url,
            "ADMIN_TOKEN": ADMIN,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        result = subprocess.run(
            ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        hub.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature valid, certificate trusted" in result.stdout
