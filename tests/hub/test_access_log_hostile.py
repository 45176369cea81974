"""The access log of a real hub process against requests made to forge or pollute it: a path
that decodes to a line break or a tab (a forged line or field in the plain format), and an
API token pasted where it does not belong (a query parameter of any name, the path)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.server import HubProcess

ADMIN = "ac_access-log-hostile-admin-0123456789abcdefghij"
FORGED = "2026-11-29T23:00:00.000Z\tINFO\taccess\tmethod=DELETE\tpath=/forged\tstatus=200"


def test_a_request_cannot_forge_a_line_or_a_field_and_a_pasted_token_is_masked(
    tmp_path: Path,
) -> None:
    hub = HubProcess(tmp_path / "data", ADMIN, env={"PYTHONUNBUFFERED": "1"})  # plain lines
    hub.start()
    try:
        token = hub.org("受信者", "receiver")["token"]
        with httpx.Client(base_url=hub.url, timeout=10) as client:
            # %0A and %09 reach the application decoded, as a line break and a tab
            forged = client.get("/api/v1/alerts/nope%0A" + FORGED.replace("\t", "%09"))
            assert forged.status_code == 404
            tabbed = client.get("/api/v1/alerts/nope%09status=200")
            assert tabbed.status_code == 404
            for name in ("bearer", "t", "BEARER", "api"):
                pasted = client.get("/api/v1/alerts", params={name: token})
                assert pasted.status_code == 200
            client.get("/api/v1/alerts", params={"q": f"Bearer {token}"})
            assert client.get(f"/api/v1/alerts/{token}").status_code == 404
    finally:
        hub.stop()
    text = hub.log.read_text()
    assert token not in text
    assert token[:12] not in text  # not even most of it
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith("2026-11-29T23:00:00.000Z")], text
    access = [line for line in lines if " access " in line]
    # every request is one line whose fields are separated by single spaces, and none of
    # them says status=200 for the 404s
    for line in access:
        assert "\t" not in line, line
    nope = [line for line in access if "nope" in line]
    assert len(nope) == 2, access
    for line in nope:
        assert re.search(r" status=404 ", line) and "status=200" not in line.split('"')[0], line
