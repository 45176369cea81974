"""The curl examples in docs/api.md, run in order against the hub exactly as ``make run``
starts it (``serve --demo`` in a checkout, demo data included) and against a bare hub; and
docs/console.md's account example and docs/maps.md's outline request against the demo hub."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.demo import DemoHub
from tests.support.docs import runnable
from tests.support.server import HubProcess

ADMIN = "ac_docs-admin-token-0123456789abcdefghijklmnopqr"


def _tools() -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to run the documented examples")


def _run(script: str, cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("HUB", "ADMIN_TOKEN")},
        **variables,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _api_blocks() -> tuple[str, list[str]]:
    """The setting of HUB and ADMIN_TOKEN for ``make run``, and the examples."""
    setup, *examples = [block.text for block in runnable("docs/api.md", "sh")]
    assert "HUB=http://127.0.0.1:8080" in setup and "ADMIN_TOKEN=" in setup, setup
    assert len(examples) >= 5
    return setup, examples


def test_api_doc_examples_run_against_the_demo_hub(tmp_path: Path) -> None:
    """As a new user does after ``make run``: from the checkout, with the doc's own first
    block to set HUB and ADMIN_TOKEN (the test's hub listens on a free port, not 8080)."""
    _tools()
    setup, examples = _api_blocks()
    with DemoHub(tmp_path / "checkout") as hub:
        setup = setup.replace("http://127.0.0.1:8080", hub.url)
        result = _run("\n".join([setup, *examples]), hub.workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature valid, certificate trusted" in result.stdout


def test_api_doc_examples_run_against_a_bare_hub(tmp_path: Path) -> None:
    _tools()
    _, examples = _api_blocks()
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    work = tmp_path / "work"
    work.mkdir()
    try:
        result = _run("\n".join(examples), work, HUB=hub.url, ADMIN_TOKEN=ADMIN)
    finally:
        hub.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature valid, certificate trusted" in result.stdout


def test_console_and_maps_doc_examples_run_against_the_demo_hub(tmp_path: Path) -> None:
    _tools()
    (create_user,) = [block.text for block in runnable("docs/console.md", "sh")]
    (outline,) = [block.text for block in runnable("docs/maps.md", "sh")]
    with DemoHub(tmp_path / "checkout") as hub:
        admin = hub.credentials()["admin"]
        variables = {"HUB": hub.url, "ADMIN_TOKEN": admin, "ORG_ID": "demo-chiyoda"}
        result = _run(create_user, hub.workdir, **variables)
        assert result.returncode == 0, result.stdout + result.stderr
        drawn = _run(outline, hub.workdir, **variables)
        assert drawn.returncode == 0, drawn.stdout + drawn.stderr
        listed = _run(
            'curl -sS --fail-with-body -H "Authorization: Bearer $ADMIN_TOKEN" '
            '"$HUB/api/v1/organizations/$ORG_ID/users"',
            hub.workdir,
            **variables,
        )
    assert re.search(r'"username":\s*"chiyoda-bousai"', listed.stdout), listed.stdout
