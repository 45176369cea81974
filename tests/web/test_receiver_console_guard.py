"""The receiver console over real HTTP: forms need the session's CSRF token, an organization
sees and changes only its own endpoints, garbage in any field is refused (never a 500, never
a half-made endpoint), conditions set through the API survive an edit in the console, and
"backfill" unticked sends nothing already in force."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.web.conftest import CHIYODA, PASSWORD, Site

POLYGON = "35.69,139.75 35.69,139.76 35.68,139.76 35.68,139.75 35.69,139.75"


@contextlib.contextmanager
def _signed_in(site: Site, username: str) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=site.url) as client:
        yield client, _session(client, username)


def _session(client: httpx.Client, username: str) -> str:
    page = client.get("/console/login")
    login = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert login
    answer = client.post(
        "/console/login",
        data={"csrf_token": login.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/receivers").text)
    assert found
    return found.group(1)


def _endpoints(site: Site, org: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = site.api("GET", "/api/v1/endpoints", token=org["token"]).json()[
        "items"
    ]
    return items


@pytest.mark.parametrize("site", ["sqlite", "postgresql"], indirect=True)
def test_forms_are_guarded_and_refuse_garbage(site: Site) -> None:
    site.user(site.tv["id"], "tvdesk", ["viewer"])
    portal = site.hub.org("ポータル", "receiver")
    site.user(portal["id"], "portaldesk", ["viewer"])
    (tv_endpoint,) = _endpoints(site, site.tv)
    good = {
        "channel": "webhook",
        "url": site.receiver.url("/ok/guard"),
        "label": "x",
        "areas": "13",
        "status_Actual": "on",
        "backfill": "on",
        "action": "save",
    }
    with _signed_in(site, "tvdesk") as (client, token):
        before = len(_endpoints(site, site.tv))
        assert client.post("/console/receivers/new", data=good).status_code == 403
        forged = {**good, "csrf_token": "guess"}
        assert client.post("/console/receivers/new", data=forged).status_code == 403
        for path in ("", "/secret", "/test"):
            answer = client.post(
                f"/console/receivers/{tv_endpoint['id']}{path}", data={"label": "changed"}
            )
            assert answer.status_code == 403, path
        assert len(_endpoints(site, site.tv)) == before  # nothing made without the token
        junk = ["", "x" * 30_000, "-1", "9" * 40, "nan", "<b>", "\U0001d54f", "\x00", "ftp://x"]
        fields = {
            "webhook": ("channel", "url", "format", "areas", "events", "min_severity"),
            "mqtt": ("port", "host", "topic_prefix", "min_urgency"),
            "email": ("to", "smtp_port", "from"),
        }
        for channel, names in fields.items():
            for name in names:
                for value in junk:
                    form = {**good, "channel": channel, name: value, "csrf_token": token}
                    for action in ("preview", "save"):
                        answer = client.post(
                            "/console/receivers/new", data={**form, "action": action}
                        )
                        assert answer.status_code < 500, (name, value, answer.text[:300])
        refused = client.post(
            "/console/receivers/new", data={**good, "areas": "99999", "csrf_token": token}
        )
        assert refused.status_code == 422 and "areas" in refused.text
        assert client.get("/console/receivers/nope").status_code == 404
        assert (
            client.get(f"/console/receivers/{tv_endpoint['id']}/deliveries/nope").status_code == 404
        )

    # another receiving organization: the endpoint is not there for it
    with _signed_in(site, "portaldesk") as (stranger, stranger_token):
        listing = stranger.get("/console/receivers").text
        assert tv_endpoint["id"] not in listing
        assert stranger.get(f"/console/receivers/{tv_endpoint['id']}").status_code == 404
        for path in ("", "/secret", "/test"):
            answer = stranger.post(
                f"/console/receivers/{tv_endpoint['id']}{path}",
                data={"csrf_token": stranger_token, "label": "mine now", "action": "save"},
            )
            assert answer.status_code == 404, path
    (unchanged,) = [e for e in _endpoints(site, site.tv) if e["id"] == tv_endpoint["id"]]
    assert unchanged["label"] == tv_endpoint["label"]


def test_edit_keeps_api_conditions_and_backfill_can_be_declined(site: Site) -> None:
    alert = make_alert(CHIYODA, ["131016"])
    published = site.api(
        "POST", "/api/v1/alerts", token=site.city["token"], content=xml(alert), headers=CAP_XML
    )
    assert published.status_code == 201, published.text
    site.user(site.tv["id"], "tvdesk", ["viewer"])
    shaped = site.api(
        "POST",
        "/api/v1/endpoints",
        token=site.tv["token"],
        json={
            "channel": "webhook",
            "url": site.receiver.url("/ok/shaped"),
            "filter": {
                "polygon": POLYGON,
                "jma_areas": ["130010"],
                "statuses": ["Actual", "Draft"],
            },
            "backfill": False,
        },
    )
    assert shaped.status_code == 201, shaped.text
    with _signed_in(site, "tvdesk") as (client, token):
        page = client.get(f"/console/receivers/{shaped.json()['id']}").text
        assert "多角形の範囲" in page and "Inside a polygon" not in page and "130010" in page
        saved = client.post(
            f"/console/receivers/{shaped.json()['id']}",
            data={
                "csrf_token": token,
                "min_severity": "Severe",
                "status_Actual": "on",
                "active": "on",
                "action": "save",
            },
        )
        assert saved.status_code == 200, saved.text
        # a paused endpoint cannot be tested; made active again it is sent what it missed
        paused = client.post(
            f"/console/receivers/{shaped.json()['id']}",
            data={
                "csrf_token": token,
                "min_severity": "Severe",
                "status_Actual": "on",
                "action": "save",
            },
        )
        assert paused.status_code == 200
        tested = client.post(
            f"/console/receivers/{shaped.json()['id']}/test", data={"csrf_token": token}
        )
        assert tested.status_code == 409

        quiet = client.post(
            "/console/receivers/new",
            data={
                "csrf_token": token,
                "channel": "webhook",
                "url": site.receiver.url("/ok/quiet"),
                "areas": "13",
                "action": "save",
            },
        )  # no "backfill": the box was unticked
        assert quiet.status_code == 200 and "0 件を送ります" in quiet.text
    (after,) = [e for e in _endpoints(site, site.tv) if e["id"] == shaped.json()["id"]]
    assert after["filter"] == {
        "polygon": POLYGON,
        "jma_areas": ["130010"],
        "min_severity": "Severe",
        "statuses": ["Actual", "Draft"],  # Draft is not on the form: kept
    }
    assert after["active"] is False
    (declined,) = [
        e for e in _endpoints(site, site.tv) if e["url"] == site.receiver.url("/ok/quiet")
    ]
    deliveries = site.api(
        "GET", f"/api/v1/alerts/{published.json()['id']}/deliveries", token=site.city["token"]
    ).json()["items"]
    assert declined["id"] not in {d.get("endpoint_id") for d in deliveries}
    assert len(deliveries) == 1  # the fixture's endpoint alone
