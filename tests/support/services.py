"""External services for tests: skip with a reason on a laptop, fail in CI.

``ALERTCOMMONS_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns every such skip into a failure.
"""

from __future__ import annotations

import os
import socket

import pytest

PG_ADMIN_URL = os.environ.get(
    "ALERTCOMMONS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def required() -> bool:
    return os.environ.get("ALERTCOMMONS_REQUIRE_SERVICES") == "1"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(name: str, host: str, port: int) -> None:
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if required():
        pytest.fail(f"{message} (ALERTCOMMONS_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def need_speech(language: str) -> None:
    """Skip (fail in CI) unless ``language`` can be spoken: the ``speech`` extra for Japanese,
    eSpeak NG for the others. ``.ci/run`` installs both."""
    from alertcommons.speech import available

    reason = available(language)
    if reason is None:
        return
    if required():
        pytest.fail(f"{reason} (ALERTCOMMONS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def unavailable(message: str) -> None:
    """Something a test needs is missing here: skip on a laptop, fail in CI."""
    if required():
        pytest.fail(f"{message} (ALERTCOMMONS_REQUIRE_SERVICES=1)")
    pytest.skip(message)
