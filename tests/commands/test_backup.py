"""``alertcommons backup`` / ``restore``: a consistent copy of the running hub's SQLite."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.server import HubProcess

ADMIN = "ac_backup-admin-token-0123456789abcdefghijklmnopq"


def _alertcommons(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTCOMMONS_")}
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_backup_while_publishing_restores_a_copy_that_verifies(tmp_path: Path) -> None:
    data = tmp_path / "data"
    hub = HubProcess(data, ADMIN)
    hub.start()
    answered: list[str] = []
    stop = threading.Event()
    try:
        city = hub.org("東京都千代田区", "issuer", "city.chiyoda.lg.jp", ["13101"])
        headers = {"Authorization": f"Bearer {city['token']}", **CAP_XML}

        def publish() -> None:
            with httpx.Client(base_url=hub.url, timeout=10) as client:
                while not stop.is_set():
                    alert = xml(make_alert("city.chiyoda.lg.jp", ["131016"]))
                    response = client.post("/api/v1/alerts", content=alert, headers=headers)
                    assert response.status_code == 201, response.text
                    answered.append(response.json()["id"])

        publisher = threading.Thread(target=publish)
        publisher.start()
        while len(answered) < 5:
            stop.wait(0.02)
        before = list(answered)  # answered 201 before the backup began
        backup = tmp_path / "backups" / "hub.db"
        made = _alertcommons("backup", str(backup), "--data-dir", str(data))
        during = len(answered)
        while len(answered) < during + 3:  # the hub keeps publishing after the copy
            stop.wait(0.02)
        stop.set()
        publisher.join(timeout=20)
        assert made.returncode == 0, made.stderr
        assert "audit-key" in made.stdout  # it says what is not in the backup
        assert before, "the hub published nothing before the backup"
    finally:
        stop.set()
        hub.stop()

    restored = tmp_path / "restored"
    restored.mkdir()
    for shared in ("audit-key", "secrets-key"):
        shutil.copy2(data / shared, restored / shared)
    done = _alertcommons("restore", str(backup), "--data-dir", str(restored))
    assert done.returncode == 0, done.stderr
    verified = _alertcommons("audit", "verify", "--data-dir", str(restored))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "checkpoints hold" in verified.stdout

    with sqlite3.connect(restored / "alertcommons.db") as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM alerts")}
    assert set(before) <= ids  # everything acknowledged before the backup is in it
    assert len(ids) < len(answered)  # and it is a snapshot: later alerts are not

    # The restored data directory runs as a hub and serves what it holds.
    again = HubProcess(restored, ADMIN)
    again.start()
    try:
        response = httpx.get(f"{again.url}/api/v1/alerts/{before[0]}")
        assert response.status_code == 200
    finally:
        again.stop()


def test_postgresql_is_refused_with_a_pointer_to_pg_dump(tmp_path: Path) -> None:
    for command in ("backup", "restore"):
        result = _alertcommons(
            command, str(tmp_path / "x.db"), "--database-url", "postgresql://hub@db/alerts"
        )
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "pg_dump" in lines[0], lines
    assert not (tmp_path / "x.db").exists()
