"""The console over plain HTTP: admin pages (approval switch, nationwide test, receiver
health), and the shelter, lift and free templates with their refusals."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.web.conftest import PASSWORD, Site


@contextmanager
def _signed_in(site: Site, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url) as client:
        page = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        response = client.post(
            "/console/login",
            data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
        )
        assert response.status_code == 303
        yield client


def _csrf(client: httpx.Client, path: str = "/console") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_admin_switches_approval_and_sends_nationwide_test(site: Site) -> None:
    site.user("operator", "ops", ["admin"])
    with _signed_in(site, "ops") as client:
        admin = client.get("/console/admin")
        assert admin.status_code == 200
        assert "東京都千代田区" in admin.text and "テレビ局 L字放送" in admin.text
        token = _csrf(client, "/console/admin")
        switched = client.post(
            f"/console/admin/organizations/{site.city['id']}/approval",
            data={"csrf_token": token, "two_person_approval": "on"},
        )
        assert switched.status_code == 303
        org = site.api("GET", f"/api/v1/organizations/{site.city['id']}").json()
        assert org["two_person_approval"] is True

        # The TV endpoint takes only Actual alerts; a test-taking endpoint gets the test.
        tv = site.api(
            "POST",
            "/api/v1/endpoints",
            token=site.tv["token"],
            json={
                "channel": "webhook",
                "url": site.receiver.url("/ok/speaker"),
                "label": "防災行政無線",
                "filter": {"areas": ["131016"], "statuses": ["Actual", "Test"]},
            },
        )
        assert tv.status_code == 201
        # First a page that says what is about to go out, and nothing is sent yet.
        asked = client.post("/console/admin/national-tests", data={"csrf_token": token})
        assert asked.status_code == 200 and 'id="national-test-confirm"' in asked.text
        assert "これは、Jアラートのテストです。" in asked.text
        assert 'id="national-tests"' not in client.get("/console/admin").text  # none sent
        sent = client.post(
            "/console/admin/national-tests", data={"csrf_token": token, "confirmed": "yes"}
        )
        assert sent.status_code == 303
        board = sent.headers["location"]
        for _ in range(100):
            if site.receiver.for_path("/ok/speaker"):
                break
            time.sleep(0.1)
        assert (
            "これは、Jアラートのテストです。".encode()
            in site.receiver.for_path("/ok/speaker")[0].body
        )
        assert site.receiver.for_path("/ok/tv") == []
        page = client.get(board)
        assert page.status_code == 200 and "防災行政無線" in page.text
        admin_page = client.get("/console/admin").text
        assert board.rsplit("/", 1)[1] in admin_page
        row = admin_page.split('id="national-tests"', 1)[1].split("</tr>", 2)[1]
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert cells[1:] == ["1", "1", "0", "0", "0"]  # one receiver, it got it


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_shelter_lift_and_free_templates(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    with _signed_in(site, "chiyoda") as client:
        token = _csrf(client)
        shelter = {
            "csrf_token": token,
            "template": "shelter",
            "municipality": "131016",
            "shelter_id": "kudan",
            "name": "九段小学校",
            "address": "千代田区三番町16",
            "lat": "35.6905",
            "lon": "139.7440",
            "capacity": "300",
            "state": "open",
            "hazard_flood": "on",
            "status": "Actual",
            "action": "publish",
            "confirmed": "yes",  # past the confirmation page an Actual message needs
        }
        assert client.post("/console/compose", data=shelter).status_code == 303
        listed = site.api("GET", "/api/v1/jp/shelters?code=131016").json()["shelters"]
        assert [(s["id"], s["state"], s["hazards"]) for s in listed] == [
            ("kudan", "open", ["flood"])
        ]

        outside = client.post(
            "/console/compose", data={**shelter, "lat": "35.6938", "lon": "139.7034"}
        )
        assert outside.status_code == 403 and "管轄外" in outside.text  # in the page's language

        no_order = client.post(
            "/console/compose",
            data={
                "csrf_token": token,
                "template": "lift",
                "municipality": "131016",
                "lift_1": "*",
                "status": "Actual",
            },
        )
        assert no_order.status_code == 409

        free = {
            "csrf_token": token,
            "template": "free",
            "event": "断水",
            "category": "Infra",
            "urgency": "Expected",
            "severity": "Moderate",
            "certainty": "Observed",
            "headline_ja": "千代田区の一部で断水",
            "headline_en": "Water outage in parts of Chiyoda",
            "areas": "131016",
            "status": "Actual",
            "action": "preview",
        }
        preview = client.post("/console/compose", data=free)
        assert preview.status_code == 200
        assert "Water outage in parts of Chiyoda" in preview.text
        assert 'id="receiver-count">1<' in preview.text
        bad = client.post("/console/compose", data={**free, "areas": "131017"})
        assert bad.status_code == 422 and "check digit" in bad.text
        published = client.post(
            "/console/compose", data={**free, "action": "publish", "confirmed": "yes"}
        )
        assert published.status_code == 303


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_admin_issues_and_revokes_tokens(site: Site) -> None:
    site.user("operator", "ops", ["admin"])
    with _signed_in(site, "ops") as client:
        path = f"/console/admin/organizations/{site.city['id']}"
        token = _csrf(client, path)
        issued = client.post(f"{path}/tokens", data={"csrf_token": token, "label": "防災無線"})
        assert issued.status_code == 200
        assert issued.headers["cache-control"] == "no-store"
        found = re.search(r'id="new-token">([^<]+)<', issued.text)
        assert found
        secret = found.group(1)
        assert site.api("GET", "/api/v1/me", token=secret).status_code == 200
        assert secret not in client.get(path).text  # shown once only

        tokens = site.api("GET", f"/api/v1/organizations/{site.city['id']}/tokens").json()
        made = next(t for t in tokens["items"] if t["label"] == "防災無線")
        forged = client.post(f"{path}/tokens/{made['id']}/revoke")  # no CSRF token
        assert forged.status_code == 403
        revoked = client.post(f"{path}/tokens/{made['id']}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 303
        assert site.api("GET", "/api/v1/me", token=secret).status_code == 401


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_national_warning_from_the_console_skips_approval(site: Site) -> None:
    cas = site.hub.org("内閣官房", "issuer", "cas.go.jp", ["*"])
    site.approval(cas["id"], True)
    site.user(cas["id"], "cas-duty", ["drafter"])
    site.user(site.city["id"], "chiyoda", ["drafter", "approver"])
    form = {
        "template": "national",
        "kind": "missile",
        "areas": "13",
        "status": "Actual",
        "action": "publish",
        "confirmed": "yes",
    }
    with _signed_in(site, "cas-duty") as client:
        page = client.get("/console/compose?template=national")
        assert 'name="kind"' in page.text and "承認を依頼" not in page.text
        sent = client.post("/console/compose", data={**form, "csrf_token": _csrf(client)})
        assert sent.status_code == 303  # published at once, no draft
        assert sent.headers["location"].startswith("/console/alerts/")
        alert_id = sent.headers["location"].rsplit("/", 1)[1]
    record = site.api("GET", f"/api/v1/alerts/{alert_id}").json()
    assert record["activation"] is True and record["sender"] == "cas.go.jp"
    for _ in range(100):
        if site.receiver.for_path("/ok/tv"):
            break
        time.sleep(0.1)
    assert "ミサイル発射".encode() in site.receiver.for_path("/ok/tv")[0].body
    with _signed_in(site, "chiyoda") as client:
        assert 'name="kind"' not in client.get("/console/compose?template=national").text
        refused = client.post("/console/compose", data={**form, "csrf_token": _csrf(client)})
        assert refused.status_code == 403
