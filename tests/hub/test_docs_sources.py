"""The shell examples in docs/sources.md, run in order against a real hub."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs import runnable
from tests.support.server import HubProcess

ADMIN = "ac_docs-sources-admin-token-0123456789abcdefghijk"


def test_sources_doc_examples_run(tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to run the documented examples")
    blocks = [block.text for block in runnable("docs/sources.md", "sh")]
    assert len(blocks) >= 6
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    try:
        work = tmp_path / "work"
        work.mkdir()
        # The other hub's certificate, as the example reads it: this hub's own will do.
        shutil.copy2(hub.data_dir / "hub-cert.pem", work / "miyagi-hub.pem")
        env = {
            **os.environ,
            "HUB": hub.url,
            "ADMIN_TOKEN": ADMIN,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + "\n".join(blocks)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        hub.stop()
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    lines = out.splitlines()
    assert lines[0] == "宮城県"
    assert re.fullmatch(r"added [0-9A-Z]{26}", lines[1]), lines[1]
    assert lines[2].startswith("422 url: ") and "ALERTCOMMONS_OUTBOUND_ALLOW" in lines[2]
    assert '"name":"miyagi","origin":"api","editable":true' in lines[3]
    assert lines[4] == '{"name":"miyagi","active":false}'
    assert lines[5] == "204"
    assert int(lines[6]) >= 6  # the source metrics are described
