"""One cluster, one key: hub nodes sharing a PostgreSQL database sign with the same key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from lxml import etree

from alertcommons.cap.signature import verify
from alertcommons.hub.signer import new_key
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.pg import fresh_database
from tests.support.server import HubProcess

ADMIN = "ac_cluster-key-admin-token-0123456789abcdefghijklm"


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


def _node(root: Path, name: str, url: str, seed: Path | None = None) -> HubProcess:
    """A node whose data directory holds only the cluster's shared audit and secrets keys."""
    data = root / name
    data.mkdir()
    if seed is not None:
        for shared in ("audit-key", "secrets-key"):
            shutil.copy2(seed / shared, data / shared)
    return HubProcess(data, ADMIN, database_url=url)


def _current(node: HubProcess) -> tuple[str, list[str]]:
    keys = httpx.get(f"{node.url}/api/v1/keys").json()["keys"]
    return next(k["id"] for k in keys if k["current"]), [k["id"] for k in keys]


def _publish(node: HubProcess, token: str) -> str:
    response = httpx.post(
        f"{node.url}/api/v1/alerts",
        content=xml(make_alert("city.chiyoda.lg.jp", ["131016"])),
        headers={"Authorization": f"Bearer {token}", **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


def _verdict(node: HubProcess, alert_id: str, certificate_pem: str) -> tuple[str, str | None]:
    signed = httpx.get(f"{node.url}/api/v1/alerts/{alert_id}/cap").content
    trusted = [x509.load_pem_x509_certificate(certificate_pem.encode())]
    result = verify(etree.fromstring(signed), trusted)
    return result.signature, result.certificate


def _certificate(node: HubProcess, key_id: str) -> str:
    keys = httpx.get(f"{node.url}/api/v1/keys").json()["keys"]
    pem: str = next(k["certificate"] for k in keys if k["id"] == key_id)
    return pem


def _alertcommons(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nodes_share_the_cluster_key_refuse_another_and_rotate(
    tmp_path: Path, database_url: str
) -> None:
    a = _node(tmp_path, "a", database_url)
    nodes: list[HubProcess] = []
    try:
        a.start()
        nodes.append(a)
        b = _node(tmp_path, "b", database_url, seed=a.data_dir)
        b.start()
        nodes.append(b)
        first, _ = _current(a)
        assert _current(b)[0] == first  # B made no key of its own: it signs with A's
        assert not (b.data_dir / "hub-key.pem").exists()

        city = a.org("千代田区", "issuer", "city.chiyoda.lg.jp", ["13101"])
        old_alert = _publish(b, city["token"])
        assert _verdict(a, old_alert, _certificate(a, first)) == ("valid", "trusted")

        # A node configured with a key of its own refuses to start, in one line, exit 2.
        key_pem, cert_pem = new_key("rogue")
        rogue = tmp_path / "rogue"
        rogue.mkdir()
        for shared in ("audit-key", "secrets-key"):
            shutil.copy2(a.data_dir / shared, rogue / shared)
        (rogue / "key.pem").write_bytes(key_pem)
        (rogue / "cert.pem").write_bytes(cert_pem)
        env = {
            **os.environ,
            "ALERTCOMMONS_DATA_DIR": str(rogue),
            "ALERTCOMMONS_SIGNING_KEY": str(rogue / "key.pem"),
            "ALERTCOMMONS_SIGNING_CERT": str(rogue / "cert.pem"),
        }
        refused = _alertcommons(env, "serve", "--port", "0", "--database-url", database_url)
        assert refused.returncode == 2, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "is not the cluster's current key" in lines[0], lines

        rotated = _alertcommons(
            {**os.environ, "ALERTCOMMONS_DATA_DIR": str(a.data_dir)},
            "keys",
            "rotate",
            "--database-url",
            database_url,
        )
        assert rotated.returncode == 0, rotated.stderr
        assert "restart every hub node" in rotated.stdout

        for node in nodes:
            node.stop()
        nodes.clear()
        a2 = HubProcess(a.data_dir, ADMIN, database_url=database_url)
        b2 = HubProcess(b.data_dir, ADMIN, database_url=database_url)
        for node in (a2, b2):
            node.start()
            nodes.append(node)
        second, listed = _current(a2)
        assert second != first and _current(b2)[0] == second
        assert first in listed  # the old certificate is still published

        new_alert = _publish(a2, city["token"])
        assert _verdict(b2, new_alert, _certificate(b2, second)) == ("valid", "trusted")
        assert _verdict(b2, old_alert, _certificate(b2, first)) == ("valid", "trusted")
        # The new key is not the old one: the old certificate does not vouch for new alerts.
        assert _verdict(b2, new_alert, _certificate(b2, first))[1] != "trusted"
    finally:
        for node in nodes:
            node.stop()
