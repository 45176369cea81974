"""The examples in docs/receivers.md, run against a real hub: curl blocks in order, and the
Python receiver as a real process that verifies, de-duplicates and acknowledges."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from tests.support.receiver_guide import (
    guide_blocks,
    guide_env,
    publish_and_see_acknowledged,
    run_block,
    sample_receiver,
)
from tests.support.server import HubProcess, free_port

ADMIN = "ac_receivers-doc-admin-token-0123456789abcdefghi"


def test_receiver_guide_examples(tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to run the documented examples")
    shell, python_receiver = guide_blocks()
    hub = HubProcess(tmp_path / "data", ADMIN)
    hub.start()
    work = tmp_path / "work"
    work.mkdir()
    try:
        issuer = hub.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        rx = hub.org("Broadcaster", "receiver")
        env = guide_env(os.environ, hub.url, rx["token"], free_port())
        run_block(shell[0], work, env)  # register the webhook endpoint
        with sample_receiver(python_receiver, work, env) as receiver:
            assert receiver.stdout is not None
            report = publish_and_see_acknowledged(hub.url, issuer["token"], receiver.stdout)
            # it acknowledges inside the request, and the send's latency is still measured
            assert [item["latency_ms"] is not None for item in report["items"]] == [True], report
            for block in shell[1:]:  # verify the CAP, the stream, the feed
                run_block(block, work, env)

            # The hub restarts under the running receiver, and the operator rotates its token:
            # the receiver, reading token.txt at each acknowledgement, goes on acknowledging.
            hub.stop()
            hub.start()
            admin = {"Authorization": f"Bearer {ADMIN}"}
            tokens_url = f"{hub.url}/api/v1/organizations/{rx['id']}/tokens"
            old = [t["id"] for t in httpx.get(tokens_url, headers=admin).json()["items"]]
            rotated = httpx.post(tokens_url, json={"label": "rotated"}, headers=admin)
            assert rotated.status_code == 201, rotated.text
            (work / "token.txt").write_text(rotated.json()["token"] + "\n")
            for token_id in old:
                httpx.delete(f"{tokens_url}/{token_id}", headers=admin).raise_for_status()
            report = publish_and_see_acknowledged(hub.url, issuer["token"], receiver.stdout)
            assert [item["latency_ms"] is not None for item in report["items"]] == [True], report
            assert receiver.poll() is None  # still running
    finally:
        hub.stop()
