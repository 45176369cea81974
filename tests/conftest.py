"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real sample data laid beside the project; a missing file fails, never skips."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"sample data not found at {SHARED_DATA} (expected ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cap_dir(shared_data: Path) -> Path:
    return shared_data / "cap"
