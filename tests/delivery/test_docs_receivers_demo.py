"""docs/receivers.md followed after ``make run``: its blocks against the demo hub, with a demo
receiver's token from the banner, and the sample receiver still acknowledging after the hub
restarts (the demo's tokens are the same at every start of the same data directory).

tests/delivery/test_docs_receivers.py runs the same blocks against a bare hub, with a token
rotation; this one is what a new user meets first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.demo import DemoHub
from tests.support.receiver_guide import (
    guide_blocks,
    guide_env,
    publish_and_see_acknowledged,
    run_block,
    sample_receiver,
)
from tests.support.server import free_port

IN_FORCE = 3  # the demo's alerts in force, sent to a new endpoint before the test's own


def test_receiver_guide_after_make_run_survives_a_restart(tmp_path: Path) -> None:
    shell, python_receiver = guide_blocks()
    hub = DemoHub(tmp_path / "checkout")
    hub.start()
    try:
        tokens = hub.credentials()["tokens"]
        base = {k: v for k, v in os.environ.items() if not k.startswith("ALERTCOMMONS_")}
        env = guide_env(base, hub.url, tokens["demo-broadcaster"], free_port())
        work = hub.workdir
        run_block(shell[0], work, env)  # register the webhook endpoint
        with sample_receiver(python_receiver, work, env) as receiver:
            assert receiver.stdout is not None
            publish_and_see_acknowledged(
                hub.url, tokens["demo-tokyo"], receiver.stdout, in_force=IN_FORCE
            )
            for block in shell[1:]:
                run_block(block, work, env)

            hub.stop()  # `make run` again: Ctrl-C, then the same command
            hub.start()
            assert hub.credentials()["tokens"] == tokens
            publish_and_see_acknowledged(
                hub.url, tokens["demo-tokyo"], receiver.stdout, in_force=IN_FORCE
            )
            assert receiver.poll() is None
    finally:
        hub.stop()


pytestmark = pytest.mark.timeout(240)
