"""What a new user meets first: ``make run`` says what it does, and its data stays untracked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_make_run_shows_each_install_step_and_pips_progress(tmp_path: Path) -> None:
    """A first ``make run`` spends a minute in pip: silenced, it looked like a hang."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"
    plan = subprocess.run(
        ["make", "-n", "-B", f"VENV={venv}", f"{venv}/bin/.installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--quiet" not in plan and " -q " not in plan
    steps = [line for line in plan.splitlines() if line.startswith('echo "==> ')]
    assert len(steps) >= 3, plan
    assert "pip install" in plan


def test_the_default_data_directory_is_ignored_by_git() -> None:
    """``make run`` writes the hub's private key into ``alertcommons-data/`` in the checkout."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("alertcommons-data/hub-key.pem", "alertcommons-data/alertcommons.db"):
        answer = subprocess.run(
            ["git", "check-ignore", "--no-index", name], cwd=ROOT, capture_output=True, text=True
        )
        assert answer.returncode == 0, f"{name} is not ignored by git"
