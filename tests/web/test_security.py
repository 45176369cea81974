"""Console security over real HTTP: CSRF tokens required, session fixation prevented,
lock-out after repeated failures, roles kept apart, passwords hashed, and HTML in alert text
escaped wherever it is shown (checked in the browser too)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.web.conftest import ADMIN, CHIYODA, PASSWORD, Site

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def _login_csrf(client: httpx.Client) -> str:
    page = client.get("/console/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    token = _login_csrf(client)
    return client.post(
        "/console/login",
        data={"csrf_token": token, "username": username, "password": password},
    )


def _session_csrf(client: httpx.Client) -> str:
    page = client.get("/console/compose")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_csrf_token_is_required(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    with httpx.Client(base_url=site.url) as client:
        # Sign-in without the login form's token is refused.
        refused = client.post("/console/login", data={"username": "chiyoda", "password": PASSWORD})
        assert refused.status_code == 403
        assert _sign_in(client, "chiyoda").status_code == 303
        form = {
            "template": "evacuation",
            "municipality": "131016",
            "level": "4",
            "hazard": "flood",
            "status": "Actual",
            "action": "publish",
            "confirmed": "yes",
        }
        assert client.post("/console/compose", data=form).status_code == 403
        wrong = client.post("/console/compose", data={**form, "csrf_token": "guess"})
        assert wrong.status_code == 403
        assert site.receiver.for_path("/ok/tv") == []
        good = client.post("/console/compose", data={**form, "csrf_token": _session_csrf(client)})
        assert good.status_code == 303 and good.headers["location"].startswith("/console/alerts/")


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_session_fixation_is_prevented(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    with httpx.Client(base_url=site.url) as client:
        planted = "attacker-chosen-session-value"
        client.cookies.set("ac_session", planted, domain="127.0.0.1", path="/")
        assert _sign_in(client, "chiyoda").status_code == 303
        issued = client.cookies.get("ac_session")
        assert issued and issued != planted
        assert client.get("/console").status_code == 200
        # A second sign-in from the same browser ends the first session.
        assert _sign_in(client, "chiyoda").status_code == 303
        assert client.cookies.get("ac_session") != issued
    with httpx.Client(base_url=site.url, cookies={"ac_session": issued}) as stale:
        assert stale.get("/console").status_code == 303  # back to sign-in
    with httpx.Client(base_url=site.url, cookies={"ac_session": planted}) as attacker:
        assert attacker.get("/console").status_code == 303


def test_cookie_flags(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    with httpx.Client(base_url=site.url) as client:
        response = _sign_in(client, "chiyoda")
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie


def test_lock_out_after_repeated_failures(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    with httpx.Client(base_url=site.url) as client:
        for _ in range(5):
            assert _sign_in(client, "chiyoda", "wrong password!!").status_code == 401
        locked = _sign_in(client, "chiyoda", PASSWORD)  # even the right password now
        assert locked.status_code == 401 and "ロック" in locked.text
        assert "ac_session" not in client.cookies
        unknown = _sign_in(client, "nobody-here", PASSWORD)
        assert unknown.status_code == 401
    database = sqlite3.connect(site.hub.data_dir / "alertcommons.db")
    actions = [row[0] for row in database.execute("SELECT action FROM audit_log")]
    assert actions.count("login.failed") >= 6 and "login.locked" in actions
    stored = database.execute("SELECT password_hash FROM users").fetchone()[0]
    database.close()
    assert stored.startswith("scrypt$") and PASSWORD not in stored


def test_receiver_account_cannot_reach_issuer_pages(site: Site) -> None:
    site.user(site.tv["id"], "tv-viewer", ["viewer"])
    site.user(site.city["id"], "drafter", ["drafter"])
    with httpx.Client(base_url=site.url) as client:
        assert _sign_in(client, "tv-viewer").status_code == 303
        home = client.get("/console")
        assert home.status_code == 200 and "発信はできません" in home.text
        for path in ("/console/compose", "/console/compose?template=free", "/console/admin"):
            assert client.get(path).status_code == 403, path
        token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert token
        form = {"csrf_token": token.group(1), "template": "lift", "municipality": "131016"}
        assert client.post("/console/compose", data=form).status_code == 403
    with httpx.Client(base_url=site.url) as client:
        assert _sign_in(client, "drafter").status_code == 303
        assert client.get("/console/admin").status_code == 403
    # Accounts are made by admins only, with a strong enough password.
    weak = site.api(
        "POST",
        f"/api/v1/organizations/{site.city['id']}/users",
        json={"username": "weak", "display_name": "w", "password": "short", "roles": ["drafter"]},
    )
    assert weak.status_code == 422
    not_admin = site.api(
        "POST",
        f"/api/v1/organizations/{site.city['id']}/users",
        token=site.city["token"],
        json={
            "username": "x-user",
            "display_name": "x",
            "password": PASSWORD,
            "roles": ["drafter"],
        },
    )
    assert not_admin.status_code == 403


def test_html_in_alert_text_is_escaped_everywhere(browser: Any, site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    alert = make_alert(CHIYODA, ["131016"], headline=HOSTILE[:190], event=HOSTILE[:100])
    alert.infos[0].description = HOSTILE
    alert.infos[0].areas[0].area_desc = HOSTILE
    published = site.api(
        "POST", "/api/v1/alerts", token=site.city["token"], content=xml(alert), headers=CAP_XML
    )
    assert published.status_code == 201, published.text
    alert_id = published.json()["id"]
    for path in ("/", f"/alerts/{alert_id}", f"/alerts/{alert_id}?lang=en"):
        body = httpx.get(f"{site.url}{path}").text
        assert "<script>window.__pwned" not in body and "<img src=x" not in body, path
        assert "&lt;script&gt;" in body, path
    context = browser.new_context()
    page = context.new_page()
    site.sign_in(page, "chiyoda")
    for path in ("/", f"/alerts/{alert_id}", "/console", f"/console/alerts/{alert_id}"):
        page.goto(f"{site.url}{path}")
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned") is None, path
        assert page.locator("img[src=x]").count() == 0, path
    context.close()
    assert ADMIN  # the admin token never appears in pages
    assert ADMIN not in httpx.get(f"{site.url}/").text


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_password_change_ends_other_sessions(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    new = "a brand new passphrase 2026"
    with httpx.Client(base_url=site.url) as other, httpx.Client(base_url=site.url) as client:
        assert _sign_in(other, "chiyoda").status_code == 303
        assert _sign_in(client, "chiyoda").status_code == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/account").text)
        assert token
        form = {"csrf_token": token.group(1), "current": PASSWORD}
        mismatch = client.post(
            "/console/account/password", data={**form, "new": new, "repeat": "x"}
        )
        assert mismatch.status_code == 422
        weak = client.post(
            "/console/account/password", data={**form, "new": "short", "repeat": "short"}
        )
        assert weak.status_code == 422
        wrong = client.post(
            "/console/account/password",
            data={**form, "current": "not it at all", "new": new, "repeat": new},
        )
        assert wrong.status_code == 422
        done = client.post("/console/account/password", data={**form, "new": new, "repeat": new})
        assert done.status_code == 200 and 'id="account-done"' in done.text
        assert client.get("/console").status_code == 200  # this session stays
        assert other.get("/console").status_code == 303  # the other one is over
    with httpx.Client(base_url=site.url) as fresh:
        assert _sign_in(fresh, "chiyoda", PASSWORD).status_code == 401
        assert _sign_in(fresh, "chiyoda", new).status_code == 303


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_console_forms_never_answer_500(site: Site) -> None:
    """Garbage in every console form (with a valid session and token) is refused, never a 500."""
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    site.user("operator", "ops", ["admin"])
    junk_values = [
        "",
        "x" * 30_000,
        "0",
        "-1",
        "9" * 40,
        "1e309",
        "nan",
        "<b>",
        "\U0001d54f",
        "\x00",
    ]
    forms = [
        {"template": t, "areas": "131016", **{f: v for f in fields}}
        for t, fields in (
            ("evacuation", ("municipality", "level", "hazard", "district_1", "polygon_1", "hours")),
            ("lift", ("municipality", "status")),
            ("shelter", ("municipality", "shelter_id", "lat", "lon", "capacity", "state")),
            ("free", ("event", "headline_ja", "areas", "polygon", "hours", "replaces", "urgency")),
            ("national", ("kind", "areas")),
            ("free", ("event", "headline_ja", "description_ja")),  # areas valid below
            ("nonsense", ("a",)),
        )
        for v in junk_values
    ]
    with httpx.Client(base_url=site.url) as client:
        assert _sign_in(client, "chiyoda").status_code == 303
        token = _session_csrf(client)
        for form in forms:
            for action in ("preview", "publish"):
                response = client.post(
                    "/console/compose", data={**form, "csrf_token": token, "action": action}
                )
                assert response.status_code < 500, (form, response.text[:300])
        for path in (
            "/console/drafts/nope",
            "/console/alerts/nope",
            "/console/alerts/nope/events",
            "/console/compose?template=%00",
        ):
            assert client.get(path).status_code < 500, path
        for path in ("/console/drafts/nope/approve", "/console/alerts/nope/cancel"):
            assert client.post(path, data={"csrf_token": token}).status_code in (403, 404), path
    with httpx.Client(base_url=site.url) as client:
        assert _sign_in(client, "ops").status_code == 303
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/admin").text)
        assert found
        for path in (
            "/console/admin/organizations/nope/approval",
            "/console/admin/organizations/nope/tokens",
            "/console/admin/organizations/nope/tokens/nope/revoke",
        ):
            response = client.post(path, data={"csrf_token": found.group(1), "label": "x" * 5000})
            assert response.status_code == 404, (path, response.status_code)
