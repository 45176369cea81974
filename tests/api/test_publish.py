"""Publishing over HTTP: accepted, signed, stored, idempotent; refused precisely."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cryptography import x509
from lxml import etree

from alertcommons.cap import to_json, verify
from alertcommons.store import audit
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

CHIYODA = "city.chiyoda.tokyo.jp"


async def test_publish_xml_signed_and_served(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"])
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**org["headers"], **CAP_XML}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "identifier", "sender", "sent", "deliveries"}
    assert body["identifier"] == alert.identifier
    assert body["sent"] == alert.sent
    assert response.headers["location"] == f"/api/v1/alerts/{body['id']}"

    record = (await hub.client.get(response.headers["location"])).json()
    assert record["alert"] == to_json(alert)
    assert record["areas"] == ["13101"]
    assert record["active"] is True

    cap = await hub.client.get(f"/api/v1/alerts/{body['id']}/cap")
    assert cap.headers["content-type"].startswith("application/cap+xml")
    keys = (await hub.client.get("/api/v1/keys")).json()["keys"]
    certificate = x509.load_pem_x509_certificate(keys[0]["certificate"].encode())
    result = verify(etree.fromstring(cap.content), [certificate])
    assert (result.signature, result.certificate) == ("valid", "trusted")


async def test_publish_json_form(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["13101"])
    alert = make_alert(CHIYODA, ["13101"])
    response = await hub.client.post("/api/v1/alerts", json=to_json(alert), headers=org["headers"])
    assert response.status_code == 201, response.text


async def test_same_again_is_200_different_is_409(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131016"])
    headers = {**org["headers"], **CAP_XML}
    first = await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)
    again = await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    changed = replace(alert, note="changed")
    conflict = await hub.client.post("/api/v1/alerts", content=xml(changed), headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["alert_id"] == first.json()["id"]


async def _audit_actions(hub: Hub) -> list[dict[str, object]]:
    return await hub.services.store.read(lambda c: audit.records(c, limit=50))


async def test_neighbour_code_refused_and_audited(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = make_alert(CHIYODA, ["131041"])  # 新宿区
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**org["headers"], **CAP_XML}
    )
    assert response.status_code == 403
    problem = response.json()
    assert "13104" in problem["detail"] and "outside your jurisdiction" in problem["detail"]
    refused = [r for r in await _audit_actions(hub) if r["action"] == "alert.refused"]
    assert refused and refused[0]["subject"] == alert.identifier


async def test_other_sender_refused_and_audited(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    await hub.org("東京都新宿区", "city.shinjuku.tokyo.jp", ["131041"])
    alert = make_alert("city.shinjuku.tokyo.jp", ["131041"])
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**org["headers"], **CAP_XML}
    )
    assert response.status_code == 403
    assert "city.shinjuku.tokyo.jp" in response.json()["detail"]
    refused = [r for r in await _audit_actions(hub) if r["action"] == "alert.refused"]
    assert refused


async def test_cannot_cancel_another_senders_alert(hub: Hub) -> None:
    shinjuku = await hub.org("東京都新宿区", "city.shinjuku.tokyo.jp", ["131041"])
    chiyoda = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    theirs = make_alert("city.shinjuku.tokyo.jp", ["131041"])
    ok = await hub.client.post(
        "/api/v1/alerts", content=xml(theirs), headers={**shinjuku["headers"], **CAP_XML}
    )
    assert ok.status_code == 201
    cancel = make_alert(CHIYODA, [], msg_type="Cancel", references=reference_to(theirs))
    cancel.infos.clear()
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(cancel), headers={**chiyoda["headers"], **CAP_XML}
    )
    assert response.status_code == 403
    assert "another sender" in response.json()["detail"] or "your own" in response.json()["detail"]
    still = (await hub.client.get(f"/api/v1/alerts/{ok.json()['id']}")).json()
    assert still["active"] is True
    assert [r for r in await _audit_actions(hub) if r["action"] == "alert.refused"]


async def test_update_and_cancel_supersede(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**org["headers"], **CAP_XML}
    original = make_alert(CHIYODA, ["131016"])
    first = (await hub.client.post("/api/v1/alerts", content=xml(original), headers=headers)).json()
    update = make_alert(
        CHIYODA,
        ["131016"],
        msg_type="Update",
        references=reference_to(original),
        headline="【警戒レベル5】緊急安全確保",
    )
    second = (await hub.client.post("/api/v1/alerts", content=xml(update), headers=headers)).json()
    active = (await hub.client.get("/api/v1/alerts", params={"active": "true"})).json()["items"]
    assert [item["id"] for item in active] == [second["id"]]
    old = (await hub.client.get(f"/api/v1/alerts/{first['id']}")).json()
    assert old["superseded_by"] == second["id"] and old["active"] is False

    cancel = make_alert(CHIYODA, [], msg_type="Cancel", references=reference_to(update))
    cancel.infos.clear()
    response = await hub.client.post("/api/v1/alerts", content=xml(cancel), headers=headers)
    assert response.status_code == 201, response.text
    active = (await hub.client.get("/api/v1/alerts", params={"active": "true"})).json()["items"]
    assert active == []
    audit_actions = [r["action"] for r in await _audit_actions(hub)]
    assert {"alert.publish", "alert.update", "alert.cancel"} <= set(audit_actions)


async def test_update_of_unknown_alert_is_422(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    update = make_alert(
        CHIYODA,
        ["131016"],
        msg_type="Update",
        references=f"{CHIYODA},never-sent,2026-01-01T00:00:00+09:00",
    )
    response = await hub.client.post(
        "/api/v1/alerts", content=xml(update), headers={**org["headers"], **CAP_XML}
    )
    assert response.status_code == 422
    assert response.json()["path"] == "alert/references"


async def test_invalid_cap_is_422_with_paths(hub: Hub, cap_dir: object) -> None:
    org = await hub.org("test", "sender", ["13"])
    from pathlib import Path

    body = (Path(str(cap_dir)) / "invalid.cap").read_bytes()
    response = await hub.client.post(
        "/api/v1/alerts", content=body, headers={**org["headers"], **CAP_XML}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [
        {"path": "alert/scope", "message": "missing required element <scope>"}
    ]


async def test_polygon_inside_accepted_outside_refused(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**org["headers"], **CAP_XML}
    inside = "35.690,139.750 35.690,139.760 35.680,139.760 35.680,139.750 35.690,139.750"
    ok = await hub.client.post(
        "/api/v1/alerts", content=xml(make_alert(CHIYODA, polygon=inside)), headers=headers
    )
    assert ok.status_code == 201, ok.text
    reaching = "35.690,139.700 35.690,139.760 35.680,139.760 35.680,139.700 35.690,139.700"
    refused = await hub.client.post(
        "/api/v1/alerts", content=xml(make_alert(CHIYODA, polygon=reaching)), headers=headers
    )
    assert refused.status_code == 403
    assert "polygon[1]" in refused.json()["detail"]


async def test_prefecture_and_national_jurisdictions(hub: Hub) -> None:
    tokyo = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    national = await hub.org("気象庁", "jma.go.jp", ["*"])
    for org, sender, codes, expected in [
        (tokyo, "metro.tokyo.jp", ["131016", "131041"], 201),
        (tokyo, "metro.tokyo.jp", ["271004"], 403),
        (national, "jma.go.jp", ["271004", "011002"], 201),
    ]:
        response = await hub.client.post(
            "/api/v1/alerts",
            content=xml(make_alert(sender, codes)),
            headers={**org["headers"], **CAP_XML},
        )
        assert response.status_code == expected, (codes, response.text)


async def test_bad_geocode_in_alert_is_refused(hub: Hub) -> None:
    org = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert("metro.tokyo.jp", ["131017"])),  # wrong check digit
        headers={**org["headers"], **CAP_XML},
    )
    assert response.status_code == 403
    assert "check digit" in response.json()["detail"]


async def test_list_filters_and_pages(hub: Hub) -> None:
    tokyo = await hub.org("東京都", "metro.tokyo.jp", ["13"])
    headers = {**tokyo["headers"], **CAP_XML}
    published = []
    for codes, status in [(["131016"], "Actual"), (["131041"], "Actual"), (["13"], "Exercise")]:
        alert = make_alert("metro.tokyo.jp", codes, status=status)
        response = await hub.client.post("/api/v1/alerts", content=xml(alert), headers=headers)
        published.append(response.json()["id"])

    async def ids(**params: str) -> list[str]:
        response = await hub.client.get("/api/v1/alerts", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids() == published[::-1]
    assert await ids(area="131016") == [published[2], published[0]]  # prefecture-wide covers it
    assert await ids(area="13104") == [published[2], published[1]]
    assert await ids(area="13") == published[::-1]
    assert await ids(status="Exercise") == [published[2]]
    assert await ids(sender="nobody") == []
    assert await ids(since="2000-01-01T00:00:00+09:00") == published[::-1]
    assert await ids(since="2999-01-01T00:00:00+09:00") == []
    page = (await hub.client.get("/api/v1/alerts", params={"limit": 2})).json()
    assert len(page["items"]) == 2 and page["next_cursor"] == published[1]
    rest = await ids(limit="2", cursor=page["next_cursor"])
    assert rest == [published[0]]
    bad = await hub.client.get("/api/v1/alerts", params={"area": "99999"})
    assert bad.status_code == 422 and bad.json()["path"] == "area"


async def test_restricted_alert_hidden_from_public(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    alert = replace(make_alert(CHIYODA, ["131016"]), scope="Restricted", restriction="staff")
    created = await hub.client.post(
        "/api/v1/alerts", content=xml(alert), headers={**org["headers"], **CAP_XML}
    )
    alert_id = created.json()["id"]
    assert (await hub.client.get(f"/api/v1/alerts/{alert_id}")).status_code == 404
    mine = await hub.client.get(f"/api/v1/alerts/{alert_id}", headers=org["headers"])
    assert mine.status_code == 200
    assert (await hub.client.get("/api/v1/alerts")).json()["items"] == []


async def test_json_body_errors(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**org["headers"], "Content-Type": "application/json"}
    not_json = await hub.client.post("/api/v1/alerts", content=b"{nope", headers=headers)
    assert not_json.status_code == 400
    wrong = await hub.client.post(
        "/api/v1/alerts", content=json.dumps({"identifer": "x"}), headers=headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["path"] == "alert/identifer"


async def test_hidden_alerts_do_not_cut_pages_short(hub: Hub) -> None:
    org = await hub.org("東京都千代田区", CHIYODA, ["131016"])
    headers = {**org["headers"], **CAP_XML}
    public = []
    for _ in range(2):
        response = await hub.client.post(
            "/api/v1/alerts", content=xml(make_alert(CHIYODA, ["131016"])), headers=headers
        )
        public.append(response.json()["id"])
    restricted = replace(make_alert(CHIYODA, ["131016"]), scope="Restricted", restriction="staff")
    await hub.client.post("/api/v1/alerts", content=xml(restricted), headers=headers)

    first = (await hub.client.get("/api/v1/alerts", params={"limit": 1})).json()
    assert [item["id"] for item in first["items"]] == [public[1]]
    second = (
        await hub.client.get("/api/v1/alerts", params={"limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert [item["id"] for item in second["items"]] == [public[0]]
    own = (await hub.client.get("/api/v1/alerts", headers=org["headers"])).json()
    assert len(own["items"]) == 3
