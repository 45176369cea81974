"""The audit chain against someone who can write the database but has not the audit key.

A real hub process writes the records; ``alertcommons audit verify`` judges them. The
attacks are the ones that passed before the chain was keyed: cutting the newest records off
and fixing ``audit_head``, and editing a record then recomputing the (unkeyed) chain.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, delete, func, insert, select, update

from alertcommons.cli import cli
from alertcommons.store.audit import GENESIS, UNKEYED, _digest
from alertcommons.store.engine import Store, normalize_url
from alertcommons.store.schema import audit_head, audit_log
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub
from tests.support.server import HubProcess

ADMIN = "ac_audit-test-admin-token-abcdefghijklmnopqrstuvwx"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@dataclass(frozen=True)
class Verified:
    returncode: int
    stdout: str


def _verify(data: Path) -> Verified:
    """``alertcommons audit verify`` through the command line's own parser, in-process (a
    subprocess per call only adds start-up time; tests/hub/test_server.py runs it as one)."""
    result = CliRunner().invoke(cli, ["audit", "verify", "--data-dir", str(data)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Verified(result.exit_code, result.output)


def _run_hub(data: Path, alerts: int) -> None:
    """Start a hub, publish some alerts (each one an audit record), stop it cleanly."""
    process = HubProcess(data, ADMIN)
    process.start()
    try:
        issuer = process.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        for _ in range(alerts):
            response = httpx.post(
                f"{process.url}/api/v1/alerts",
                content=xml(make_alert("metro.tokyo.jp", ["131016"])),
                headers={"Authorization": f"Bearer {issuer['token']}", **CAP_XML},
            )
            assert response.status_code == 201, response.text
    finally:
        process.stop()


def _engine(data: Path) -> Engine:
    return create_engine(f"sqlite:///{data / 'alertcommons.db'}")


def _rehash_unkeyed(data: Path, start: int, *, mark_unkeyed: bool) -> None:
    """What an attacker without the key can do: recompute every hash from ``start`` on."""
    with _engine(data).begin() as db:
        rows = db.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
        prev = GENESIS
        for row in rows:
            if row["seq"] >= start:
                digest = _digest(
                    UNKEYED,
                    None,
                    prev,
                    row["seq"],
                    row["at"].replace(tzinfo=UTC),
                    row["actor"],
                    row["action"],
                    row["subject"],
                    row["detail"],
                )
                values: dict[str, object] = {"prev_hash": prev, "hash": digest}
                if mark_unkeyed:
                    values["chain_version"] = UNKEYED
                db.execute(update(audit_log).where(audit_log.c.seq == row["seq"]).values(values))
                prev = str(digest)
            else:
                prev = row["hash"]
        db.execute(update(audit_head).values(seq=rows[-1]["seq"], hash=prev))


def _edit_and_rehash(data: Path, copy: Path, seq: int, mark_unkeyed: bool) -> Verified:
    """On a copy of ``data``: change record ``seq``'s actor, recompute the chain from there
    as one without the key can, and verify."""
    shutil.copytree(data, copy)
    with _engine(copy).begin() as db:
        db.execute(update(audit_log).where(audit_log.c.seq == seq).values(actor="someone-else"))
    _rehash_unkeyed(copy, seq, mark_unkeyed=mark_unkeyed)
    return _verify(copy)


def test_cutting_or_rewriting_the_chain_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run_hub(data, alerts=4)
    key_mode = stat.S_IMODE((data / "audit-key").stat().st_mode)
    assert key_mode == 0o600
    assert (data / "audit-checkpoints.log").exists()
    intact = _verify(data)
    assert intact.returncode == 0, intact.stdout
    assert "intact" in intact.stdout
    with _engine(data).connect() as db:
        last = int(db.execute(select(func.max(audit_log.c.seq))).scalar_one())
    assert last >= 5  # the organization, then the alerts

    # 1. Cut the newest two records off and point audit_head at what is left.
    cut = tmp_path / "cut"
    shutil.copytree(data, cut)
    with _engine(cut).begin() as db:
        db.execute(delete(audit_log).where(audit_log.c.seq > last - 2))
        kept = db.execute(select(audit_log.c.hash).where(audit_log.c.seq == last - 2)).scalar()
        db.execute(update(audit_head).values(seq=last - 2, hash=kept))
    broken = _verify(cut)
    assert broken.returncode == 1, broken.stdout
    assert f"BROKEN at record {last - 1}" in broken.stdout
    assert f"records after {last - 2} were removed" in broken.stdout

    # A checkpoint cannot be forged into the file without the key either.
    forged = tmp_path / "forged"
    shutil.copytree(data, forged)
    with (forged / "audit-checkpoints.log").open("a") as checkpoints:
        line = {"seq": last, "hash": "0" * 64, "at": "x", "keyed_after": 0, "mac": "00"}
        checkpoints.write(json.dumps(line) + "\n")
    broken = _verify(forged)
    assert broken.returncode == 1, broken.stdout
    assert "is not a checkpoint signed with this hub's audit key" in broken.stdout

    # 2. Edit a record and recompute the chain from there, as the unkeyed chain allowed.
    for mark_unkeyed in (False, True):
        broken = _edit_and_rehash(data, tmp_path / f"edited-{mark_unkeyed}", 3, mark_unkeyed)
        assert broken.returncode == 1, broken.stdout
        assert "BROKEN at record 3" in broken.stdout


def test_a_chain_from_before_the_key_still_verifies_and_is_held(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # A log as earlier versions wrote it: plain SHA-256, no key, no checkpoints.
    old = Store(f"sqlite:///{data / 'alertcommons.db'}")
    old.migrate()
    old.close()
    moment = datetime.now(UTC) - timedelta(days=1)
    with _engine(data).begin() as db:
        prev = GENESIS
        for seq in (1, 2, 3):
            digest = _digest(UNKEYED, None, prev, seq, moment, "system", "old.action", None, "{}")
            db.execute(
                insert(audit_log).values(
                    seq=seq,
                    at=moment,
                    actor="system",
                    action="old.action",
                    subject=None,
                    detail="{}",
                    prev_hash=prev,
                    hash=digest,
                    chain_version=UNKEYED,
                )
            )
            prev = str(digest)
        db.execute(update(audit_head).values(seq=3, hash=prev))
    before = _verify(data)
    assert before.returncode == 0, before.stdout
    assert "predates the audit key" in before.stdout

    _run_hub(data, alerts=1)  # keys the records from here on
    after = _verify(data)
    assert after.returncode == 0, after.stdout
    assert "records 1–3 predate the audit key" in after.stdout

    # Rewriting an old record means rewriting every keyed one after it: not possible.
    broken = _edit_and_rehash(data, tmp_path / "edited", 2, mark_unkeyed=True)
    assert broken.returncode == 1, broken.stdout
    assert "BROKEN at record" in broken.stdout


def test_key_files_other_than_the_databases_are_refused(tmp_path: Path) -> None:
    """A second node with its own key files would fork the chain: it must not start."""
    data = tmp_path / "data"
    first = _cli("init", "--data-dir", str(data))
    assert first.returncode == 0, first.stdout + first.stderr
    assert _verify(data).returncode == 0
    for name in ("audit-key", "secrets-key"):
        other = tmp_path / f"other-{name}"
        other.write_text(base64.b64encode(os.urandom(32)).decode())
        shutil.copy(data / name, tmp_path / f"saved-{name}")
        shutil.copy(other, data / name)
        again = _cli("init", "--data-dir", str(data))
        assert again.returncode == 1, again.stdout + again.stderr
        assert f"the {name.removesuffix('-key')} key in {data / name} is not the one" in (
            again.stderr
        )
        if name == "audit-key":
            broken = _verify(data)
            assert broken.returncode == 1 and "is not the one" in broken.stdout
        shutil.copy(tmp_path / f"saved-{name}", data / name)
    assert _verify(data).returncode == 0


def test_periodic_checkpoints_hold_after_a_crash(tmp_path: Path) -> None:
    """No clean stop, so no checkpoint at close: the periodic one must pin the head."""
    data = tmp_path / "data"
    process = HubProcess(data, ADMIN, env={"ALERTCOMMONS_AUDIT_CHECKPOINT_SECONDS": "0.2"})
    process.start()
    try:
        issuer = process.org("東京都", "issuer", "metro.tokyo.jp", ["13"])
        for _ in range(3):
            response = httpx.post(
                f"{process.url}/api/v1/alerts",
                content=xml(make_alert("metro.tokyo.jp", ["131016"])),
                headers={"Authorization": f"Bearer {issuer['token']}", **CAP_XML},
            )
            assert response.status_code == 201, response.text
        with _engine(data).connect() as db:
            last = int(db.execute(select(func.max(audit_log.c.seq))).scalar_one())
        checkpoints = data / "audit-checkpoints.log"
        deadline = time.monotonic() + 10
        while f'"seq":{last},' not in checkpoints.read_text():
            assert time.monotonic() < deadline, "no periodic checkpoint of the head"
            time.sleep(0.05)
    finally:
        process.kill()
    with _engine(data).begin() as db:
        db.execute(delete(audit_log).where(audit_log.c.seq == last))
        kept = db.execute(select(audit_log.c.hash).where(audit_log.c.seq == last - 1)).scalar()
        db.execute(update(audit_head).values(seq=last - 1, hash=kept))
    broken = _verify(data)
    assert broken.returncode == 1, broken.stdout
    assert f"records after {last - 1} were removed" in broken.stdout

    # The hub goes on and the log grows past the cut: the chain is whole again, but it is
    # not the chain the checkpoints pinned.
    process.start()
    try:
        for number in range(3):
            process.org(f"受信者{number}", "receiver")
    finally:
        process.stop()
    regrown = _verify(data)
    assert regrown.returncode == 1, regrown.stdout
    assert f"BROKEN at record {last}: it differs from the checkpoint" in regrown.stdout


@pytest.mark.anyio
async def test_verify_with_a_database_url_takes_keys_from_the_data_dir(
    hub: Hub, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on PostgreSQL: the database elsewhere, the key and checkpoints in the data dir."""
    for number in range(3):
        await hub.org(f"受信者{number}", None, [], kind="receiver")
    hub.services.store.checkpoint_audit()
    monkeypatch.setenv("ALERTCOMMONS_DATA_DIR", str(hub.services.settings.data_dir))
    args = ["audit", "verify", "--database-url", database_url]
    intact = CliRunner().invoke(cli, args)
    assert intact.exit_code == 0, intact.output

    engine = create_engine(normalize_url(database_url))
    with engine.begin() as db:
        last = int(db.execute(select(func.max(audit_log.c.seq))).scalar_one())
        db.execute(delete(audit_log).where(audit_log.c.seq == last))
        kept = db.execute(select(audit_log.c.hash).where(audit_log.c.seq == last - 1)).scalar()
        db.execute(update(audit_head).values(seq=last - 1, hash=kept))
    engine.dispose()
    broken = CliRunner().invoke(cli, args)
    assert broken.exit_code == 1, broken.output
    assert f"records after {last - 1} were removed" in broken.output
