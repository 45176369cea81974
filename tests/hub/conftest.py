"""Fixtures shared by the hub tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Nats


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[Nats]:
    """A NATS server with JetStream of the test's own (never the shared one)."""
    server = Nats(tmp_path / "nats")
    server.start()
    yield server
    server.stop()
