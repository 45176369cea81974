"""Account management over real HTTP and the real command line: disable and enable an account,
end its sessions, reset its password, change its roles — in the API, the console's admin
pages and ``alertcommons user …``, each audited."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import HubProcess
from tests.web.conftest import ADMIN, CHIYODA, PASSWORD

NEW_PASSWORD = "a brand new passphrase 2026"


# Console "browsers" opened by a test, closed when its hub stops.
_BROWSERS: list[httpx.Client] = []


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path / "data", ADMIN)
    process.start()
    try:
        yield process
    finally:
        while _BROWSERS:
            _BROWSERS.pop().close()
        process.stop()


def _api(hub: HubProcess, method: str, path: str, token: str = ADMIN, **kw: Any) -> httpx.Response:
    return httpx.request(
        method, f"{hub.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )


def _create(hub: HubProcess, org_id: str, username: str, roles: list[str]) -> str:
    response = _api(
        hub,
        "POST",
        f"/api/v1/organizations/{org_id}/users",
        json={"username": username, "display_name": username, "password": PASSWORD,
              "roles": roles},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    user_id: str = response.json()["id"]
    return user_id


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def _sign_in(hub: HubProcess, username: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=hub.url, timeout=30)
    _BROWSERS.append(client)
    token = _csrf(client.get("/console/login"))
    client.post(
        "/console/login", data={"csrf_token": token, "username": username, "password": password}
    )
    return client


def _signed_in(client: httpx.Client) -> bool:
    return client.get("/console").status_code == 200


def _can_sign_in(hub: HubProcess, username: str, password: str = PASSWORD) -> bool:
    return _signed_in(_sign_in(hub, username, password))


def _audit(hub: HubProcess) -> list[tuple[str, str, str]]:
    database = sqlite3.connect(hub.data_dir / "alertcommons.db")
    try:
        rows = database.execute("SELECT actor, action, subject FROM audit_log").fetchall()
    finally:
        database.close()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def test_accounts_through_the_api(hub: HubProcess) -> None:
    city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
    kanda = _create(hub, city["id"], "kanda", ["drafter"])
    base = f"/api/v1/organizations/{city['id']}/users/{kanda}"
    session = _sign_in(hub, "kanda")
    assert _signed_in(session)

    disabled = _api(hub, "PATCH", base, json={"active": False})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False
    assert not _signed_in(session)  # its session ended
    assert not _can_sign_in(hub, "kanda")
    assert _api(hub, "PATCH", base, json={"active": True}).json()["active"] is True
    session = _sign_in(hub, "kanda")
    assert _signed_in(session)

    ended = _api(hub, "DELETE", f"{base}/sessions")
    assert ended.status_code == 200 and ended.json()["sessions_ended"] == 1
    assert not _signed_in(session)

    roles = _api(hub, "PATCH", base, json={"roles": ["drafter", "approver"]})
    assert roles.status_code == 200 and roles.json()["roles"] == ["drafter", "approver"]
    listed = _api(hub, "GET", f"/api/v1/organizations/{city['id']}/users").json()["items"]
    assert listed[0]["roles"] == ["drafter", "approver"] and listed[0]["active"] is True
    not_here = _api(hub, "PATCH", base, json={"roles": ["admin"]})
    assert not_here.status_code == 422 and "operator" in not_here.json()["detail"]

    # A lock-out, then a reset: the old password is gone, the lock lifted, sessions ended.
    session = _sign_in(hub, "kanda")
    for _ in range(5):
        assert not _can_sign_in(hub, "kanda", "wrong password here")
    reset = _api(hub, "POST", f"{base}/password", json={})
    assert reset.status_code == 200, reset.text
    made = reset.json()["password"]
    assert reset.json()["sessions_ended"] == 1 and not _signed_in(session)
    assert not _can_sign_in(hub, "kanda")
    assert _can_sign_in(hub, "kanda", made)
    chosen = _api(hub, "POST", f"{base}/password", json={"password": NEW_PASSWORD})
    assert chosen.status_code == 200 and "password" not in chosen.json()
    assert _can_sign_in(hub, "kanda", NEW_PASSWORD)
    weak = _api(hub, "POST", f"{base}/password", json={"password": "short"})
    assert weak.status_code == 422

    # Only an admin manages accounts; another organization's id does not reach this one.
    own_token = _api(hub, "PATCH", base, token=city["token"], json={"active": False})
    assert own_token.status_code == 403
    other = hub.org("東京都港区", "issuer", "city.minato.tokyo.jp", ["131032"])
    wrong_org = f"/api/v1/organizations/{other['id']}/users/{kanda}"
    assert _api(hub, "PATCH", wrong_org, json={"active": False}).status_code == 404
    assert _api(hub, "PATCH", base, json={}).status_code == 422

    # The last enabled admin stays.
    ops = _create(hub, "operator", "ops", ["admin"])
    last = _api(hub, "PATCH", f"/api/v1/organizations/operator/users/{ops}", json={"active": False})
    assert last.status_code == 409 and "last enabled admin" in last.json()["detail"]

    actions = [(action, subject) for _, action, subject in _audit(hub)]
    assert actions.count(("user.update", kanda)) == 3
    assert ("user.sessions.end", kanda) in actions
    assert actions.count(("user.password.reset", kanda)) == 2


def test_accounts_in_the_console(hub: HubProcess) -> None:
    city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
    kanda = _create(hub, city["id"], "kanda", ["drafter"])
    _create(hub, "operator", "ops", ["admin"])
    victim = _sign_in(hub, "kanda")
    admin = _sign_in(hub, "ops")
    page_path = f"/console/admin/organizations/{city['id']}"
    page = admin.get(page_path)
    assert page.status_code == 200 and 'data-account="kanda"' in page.text
    csrf = _csrf(page)
    action = f"{page_path}/users/{kanda}"

    disabled = admin.post(f"{action}/active", data={"csrf_token": csrf})
    assert disabled.status_code == 200 and "kanda: 無効にし" in disabled.text
    assert not _signed_in(victim) and not _can_sign_in(hub, "kanda")
    enabled = admin.post(f"{action}/active", data={"csrf_token": csrf, "active": "on"})
    assert "kanda: 有効にしました" in enabled.text
    victim = _sign_in(hub, "kanda")
    assert _signed_in(victim)

    assert admin.post(f"{action}/sessions", data={"csrf_token": csrf}).status_code == 200
    assert not _signed_in(victim)

    roles = admin.post(
        f"{action}/roles", data={"csrf_token": csrf, "role_drafter": "on", "role_approver": "on"}
    )
    assert roles.status_code == 200 and "drafter,approver" in roles.text
    refused = admin.post(f"{action}/roles", data={"csrf_token": csrf, "role_admin": "on"})
    assert refused.status_code == 422

    reset = admin.post(f"{action}/password", data={"csrf_token": csrf})
    assert reset.status_code == 200
    shown = re.search(r'<code id="new-password">([^<]+)</code>', reset.text)
    assert shown
    assert not _can_sign_in(hub, "kanda")
    assert _can_sign_in(hub, "kanda", shown.group(1))

    # Without the CSRF token, or as a non-admin, nothing happens.
    assert admin.post(f"{action}/active", data={}).status_code == 403
    issuer = _sign_in(hub, "kanda", shown.group(1))
    own_csrf = _csrf(issuer.get("/console/compose"))
    assert issuer.post(f"{action}/active", data={"csrf_token": own_csrf}).status_code == 403
    assert _can_sign_in(hub, "kanda", shown.group(1))

    console_actor = [a for a, action_, s in _audit(hub) if action_ == "user.update" and s == kanda]
    assert len(console_actor) == 3 and all("/user:" in a for a in console_actor)


def _cli(hub: HubProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", "user", *args],
        input=stdin,
        env={**os.environ, "ALERTCOMMONS_DATA_DIR": str(hub.data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_accounts_from_the_command_line(hub: HubProcess) -> None:
    city = hub.org("東京都千代田区", "issuer", CHIYODA, ["131016"])
    kanda = _create(hub, city["id"], "kanda", ["drafter"])
    session = _sign_in(hub, "kanda")

    disabled = _cli(hub, "disable", "kanda")
    assert disabled.returncode == 0, disabled.stderr
    assert not _signed_in(session) and not _can_sign_in(hub, "kanda")
    assert _cli(hub, "enable", "kanda").returncode == 0
    session = _sign_in(hub, "kanda")
    ended = _cli(hub, "end-sessions", "kanda")
    assert ended.returncode == 0 and "1 session(s) ended" in ended.stdout
    assert not _signed_in(session)

    roles = _cli(hub, "roles", "kanda", "drafter,approver")
    assert roles.returncode == 0 and "drafter, approver" in roles.stdout
    listed = _api(hub, "GET", f"/api/v1/organizations/{city['id']}/users").json()["items"]
    assert listed[0]["roles"] == ["drafter", "approver"]

    reset = _cli(hub, "reset-password", "kanda", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert reset.returncode == 0, reset.stderr
    assert NEW_PASSWORD not in reset.stdout + reset.stderr
    assert not _can_sign_in(hub, "kanda") and _can_sign_in(hub, "kanda", NEW_PASSWORD)

    for args, message in (
        (("disable", "nobody"), "no account 'nobody'"),
        (("roles", "kanda", "king"), "roles are"),
        (("roles", "kanda", "admin"), "operator"),
    ):
        refused = _cli(hub, *args)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    weak = _cli(hub, "reset-password", "kanda", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "12" in weak.stderr
    # `user add` works as before
    added = _cli(hub, "add", "minato", "--org", city["id"], "--password-stdin", stdin=PASSWORD)
    assert added.returncode == 0, added.stderr

    by_cli = [(action, s) for actor, action, s in _audit(hub) if actor == "cli"]
    assert by_cli.count(("user.update", kanda)) == 3
    assert ("user.sessions.end", kanda) in by_cli and ("user.password.reset", kanda) in by_cli
