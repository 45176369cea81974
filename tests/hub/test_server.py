"""The hub as a separate process: crash durability, concurrent publishers, the audit CLI."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from lxml import etree

from alertcommons.cap import verify
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess, running_hub

ADMIN = "ac_server-test-admin-token-abcdefghijklmnopqrstuvwx"


@pytest.fixture
def hub_process(tmp_path: Path, database_url: str) -> Iterator[HubProcess]:
    with running_hub(tmp_path / "data", ADMIN, database_url) as process:
        yield process


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def _issuer(base: str, sender: str = "metro.tokyo.jp", codes: list[str] | None = None) -> str:
    body = {"name": "東京都", "kind": "issuer", "sender": sender, "jurisdiction": codes or ["13"]}
    response = httpx.post(f"{base}/api/v1/organizations", json=body, headers=_admin())
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def test_publish_then_sigkill_then_read_back(hub_process: HubProcess) -> None:
    token = _issuer(hub_process.url)
    alert = make_alert("metro.tokyo.jp", ["131016"])
    response = httpx.post(
        f"{hub_process.url}/api/v1/alerts",
        content=xml(alert),
        headers={"Authorization": f"Bearer {token}", **CAP_XML},
    )
    assert response.status_code == 201
    hub_process.kill()  # at once: the 201 must already mean "on disk"

    hub_process.start()
    alert_id = response.json()["id"]
    cap = httpx.get(f"{hub_process.url}/api/v1/alerts/{alert_id}/cap")
    assert cap.status_code == 200
    pem = httpx.get(f"{hub_process.url}/api/v1/keys/current.pem").content
    result = verify(etree.fromstring(cap.content), [x509.load_pem_x509_certificate(pem)])
    assert (result.signature, result.certificate) == ("valid", "trusted")
    record = httpx.get(f"{hub_process.url}/api/v1/alerts/{alert_id}").json()
    assert record["identifier"] == alert.identifier


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fifty_concurrent_publishers_on_sqlite(hub_process: HubProcess) -> None:
    publishers, each = 50, 4
    tokens = [_issuer(hub_process.url, f"city{n}.example.jp", ["13"]) for n in range(publishers)]

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=hub_process.url, timeout=60) as client:

            async def publisher(n: int) -> list[httpx.Response]:
                headers = {"Authorization": f"Bearer {tokens[n]}", **CAP_XML}
                results = []
                for _ in range(each):
                    alert = make_alert(f"city{n}.example.jp", ["131016"])
                    results.append(
                        await client.post("/api/v1/alerts", content=xml(alert), headers=headers)
                    )
                return results

            batches = await asyncio.gather(*(publisher(n) for n in range(publishers)))
            return [response for batch in batches for response in batch]

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [201] * (publishers * each)
    assert not any("locked" in r.text for r in responses)
    ids = {r.json()["id"] for r in responses}
    listed: set[str] = set()
    cursor = None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{hub_process.url}/api/v1/alerts", params=params).json()
        listed |= {item["id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids <= listed and len(ids) == publishers * each


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "alertcommons", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_audit_verify_names_first_broken_record(tmp_path: Path) -> None:
    process = HubProcess(tmp_path / "data", ADMIN)
    process.start()
    try:
        token = _issuer(process.url)
        for _ in range(3):
            httpx.post(
                f"{process.url}/api/v1/alerts",
                content=xml(make_alert("metro.tokyo.jp", ["131016"])),
                headers={"Authorization": f"Bearer {token}", **CAP_XML},
            )
    finally:
        process.stop()
    data = str(tmp_path / "data")
    intact = _cli("audit", "verify", "--data-dir", data)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact" in intact.stdout

    with sqlite3.connect(tmp_path / "data" / "alertcommons.db") as db:
        db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")
    broken = _cli("audit", "verify", "--data-dir", data)
    assert broken.returncode == 1
    assert "record 3" in broken.stdout


def test_init_creates_admin_token_once(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = _cli("init", "--data-dir", data)
    assert first.returncode == 0 and "ac_" in first.stdout
    again = _cli("init", "--data-dir", data)
    assert again.returncode == 0 and "already set up" in again.stdout
    env_token = "ac_from-environment-0123456789abcdefghijklmnopq"
    registered = _cli("init", "--data-dir", data, env={"ALERTCOMMONS_ADMIN_TOKEN": env_token})
    assert "registered" in registered.stdout
    both = _cli("init", "--data-dir", data, "--database-url", "sqlite:///x.db")
    assert both.returncode == 2
