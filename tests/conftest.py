"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import fast_dispatch, hub  # noqa: F401 - fixtures for every package
from tests.support.pg import fresh_database
from tests.support.receivers import Receiver

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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    with fresh_database() as url:
        yield url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver (tests/support/receivers.py) for the test's endpoints."""
    with Receiver() as running:
        yield running
