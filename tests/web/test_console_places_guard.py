"""The console's places page over real HTTP against a careless or hostile officer: a file for a
municipality outside the jurisdiction (in every form a code is written), names made of HTML,
and a link that would put words of its own in the page's "imported" notice."""

from __future__ import annotations

import json
import re

import httpx

from tests.web.conftest import PASSWORD, Site

FULLWIDTH = "13104".translate(
    str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")
)
HOSTILE = '<img src=x onerror="alert(1)">'
SQUARE = [[139.755, 35.685], [139.756, 35.685], [139.756, 35.686], [139.755, 35.686]]


def _districts(name: str) -> bytes:
    ring = [*SQUARE, SQUARE[0]]
    feature = {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def _signed_in(client: httpx.Client, username: str) -> str:
    page = client.get("/console/login")
    login = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert login
    answer = client.post(
        "/console/login",
        data={"csrf_token": login.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/places").text)
    assert found
    return found.group(1)


def test_outside_the_jurisdiction_html_names_and_a_forged_notice(site: Site) -> None:
    site.user(site.city["id"], "chiyoda", ["drafter"])
    with httpx.Client(base_url=site.url, timeout=10) as client:
        csrf = _signed_in(client, "chiyoda")

        def upload(code: str, body: bytes) -> httpx.Response:
            return client.post(
                "/console/places/districts",
                data={"csrf_token": csrf, "municipality": code},
                files={"file": ("d.geojson", body, "application/geo+json")},
            )

        # 新宿区 in each form a code is written; 東京都 as a whole; a code with a bad check digit
        for code in ("13104", "131041", " 131041 ", "13", "131040", FULLWIDTH):
            answer = upload(code, _districts("外の地区"))
            assert answer.status_code in (403, 422), (code, answer.status_code)
        assert site.api("GET", "/api/v1/jp/districts?code=13104").json()["features"] == []
        assert site.api("GET", "/api/v1/jp/districts?code=13101").json()["features"] == []

        imported = upload("131016", _districts(HOSTILE))
        assert imported.status_code == 303, imported.text
        page = client.get(imported.headers["location"])
        assert page.status_code == 200 and HOSTILE not in page.text
        assert "&lt;img src=x onerror=" in page.text
        assert page.headers["cache-control"] == "no-store"

        # a link another person sends: the notice says only what the hub says
        forged = client.get(
            "/console/places",
            params={"imported": "districts-0 件。至急 https://evil.example で再ログインを"},
        )
        assert forged.status_code == 200
        assert "evil.example" not in forged.text
        assert "import-notice" not in forged.text
        # a real notice still reads as before
        assert "を 1 件取り込みました" in page.text
