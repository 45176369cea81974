"""Hub to hub: a national hub reads a prefecture's hub's CAP feed and republishes its alerts
under the prefecture's organization, with the Update/Cancel chain kept and signatures checked
at each hop; a tampered alert on a feed is refused and reported."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertcommons.cap import read_alert
from alertcommons.cap.signature import verify
from tests.support.alerts import CAP_XML, make_alert, reference_to, xml
from tests.support.jma_feed import FeedServer
from tests.support.server import HubProcess
from tests.support.waiting import until_blocking

MIYAGI = "pref.miyagi.jp"


@pytest.fixture
def prefecture(tmp_path: Path) -> Iterator[HubProcess]:
    hub = HubProcess(tmp_path / "miyagi", secrets.token_urlsafe(16))
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def _national_hub(tmp_path: Path, sources: list[dict[str, Any]]) -> HubProcess:
    """A started hub reading ``sources`` five times a second."""
    hub = HubProcess(
        tmp_path / "national",
        secrets.token_urlsafe(16),
        env={
            "ALERTCOMMONS_CAP_SOURCES": json.dumps(sources),
            "ALERTCOMMONS_CAP_SOURCE_POLL_SECONDS": "0.2",
        },
    )
    hub.start()
    return hub


def _admin(hub: HubProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.admin_token}"}


def _alerts(hub: HubProcess) -> list[dict[str, Any]]:
    response = httpx.get(f"{hub.url}/api/v1/alerts", params={"sender": MIYAGI}, headers=_admin(hub))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _sources(hub: HubProcess) -> list[dict[str, Any]]:
    response = httpx.get(f"{hub.url}/api/v1/feeds/sources", headers=_admin(hub))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["sources"]
    return found


def test_a_national_hub_reads_a_prefecture_hub(prefecture: HubProcess, tmp_path: Path) -> None:
    miyagi = prefecture.org("宮城県", "issuer", MIYAGI, ["04"])
    headers = {"Authorization": f"Bearer {miyagi['token']}", **CAP_XML}

    def publish(alert: Any) -> str:
        response = httpx.post(
            f"{prefecture.url}/api/v1/alerts", content=xml(alert), headers=headers
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    first = make_alert(MIYAGI, ["042021"], identifier="miyagi-flood-1")
    publish(first)
    update = make_alert(
        MIYAGI,
        ["042021"],
        identifier="miyagi-flood-2",
        msg_type="Update",
        references=reference_to(first),
    )
    publish(update)
    cancel = make_alert(
        MIYAGI,
        ["042021"],
        identifier="miyagi-flood-3",
        msg_type="Cancel",
        references=reference_to(update),
    )
    publish(cancel)
    certificate = prefecture.data_dir / "hub-cert.pem"

    # A tampered copy of the prefecture's signed alert, on a feed of its own: the signature
    # no longer holds, so the national hub refuses it and says why.
    signed = httpx.get(f"{prefecture.url}/api/v1/alerts", params={"sender": MIYAGI})
    alert_id = signed.json()["items"][-1]["id"]
    original = httpx.get(f"{prefecture.url}/api/v1/alerts/{alert_id}/cap").content
    assert verify(read_alert(original).element).holds
    tampered_text = original.replace(b"miyagi-flood-1", b"miyagi-flood-9")
    assert tampered_text != original
    folder = tmp_path / "tampered"
    folder.mkdir()
    (folder / "bad.xml").write_bytes(tampered_text)

    with FeedServer(folder) as tampered:
        tampered.add("cap", "bad.xml", "tampered")
        sources = [
            {
                "name": "miyagi",
                "url": f"{prefecture.url}/feeds/all.atom",
                "organization": MIYAGI,
                "certificates": str(certificate),
            },
            {
                "name": "tampered",
                "url": tampered.base_url + "cap.xml",
                "organization": MIYAGI,
                "certificates": str(certificate),
            },
        ]
        national = _national_hub(tmp_path, sources)
        try:
            # The prefecture's organization exists on the national hub with its own
            # jurisdiction; the sources republish under it.
            national.org("宮城県", "issuer", MIYAGI, ["04"])
            until_blocking(lambda: len(_alerts(national)) == 3, seconds=20)
            held = {a["identifier"]: a for a in _alerts(national)}
            assert set(held) == {"miyagi-flood-1", "miyagi-flood-2", "miyagi-flood-3"}
            assert held["miyagi-flood-2"]["msgType"] == "Update"
            assert held["miyagi-flood-3"]["msgType"] == "Cancel"
            # The chain holds on the national hub: the update and the cancel reference the
            # copies it holds, and the original is no longer in force.
            assert held["miyagi-flood-2"]["references"]
            assert held["miyagi-flood-3"]["references"]
            active = httpx.get(
                f"{national.url}/api/v1/alerts", params={"sender": MIYAGI, "active": "true"}
            ).json()["items"]
            assert active == []
            # Signed again by the national hub, with the source visible.
            copy = httpx.get(
                f"{national.url}/api/v1/alerts/{held['miyagi-flood-1']['id']}/cap"
            ).content
            parsed = read_alert(copy)
            assert verify(parsed.element).holds
            assert parsed.alert.source == "via miyagi"
            assert any(
                p.value_name == "AlertCommons:feed" and p.value == "miyagi"
                for p in parsed.alert.infos[0].parameters
            )

            def tampered_reported() -> bool:
                health = {s["name"]: s for s in _sources(national)}
                return bool(health["tampered"]["refused"] >= 1)

            until_blocking(tampered_reported, seconds=20)
            health = {s["name"]: s for s in _sources(national)}
            assert health["miyagi"]["published"] == 3 and health["miyagi"]["refused"] == 0
            assert health["miyagi"]["last_result"] in ("ok", "not-modified")
            assert health["miyagi"]["last_duration_ms"] is not None
            assert any("signature refused" in w for w in health["tampered"]["warnings"])
            assert "miyagi-flood-9" not in {a["identifier"] for a in _alerts(national)}
        finally:
            national.stop()


def test_a_cancel_whose_alert_failed_to_arrive_waits_for_it(
    prefecture: HubProcess, tmp_path: Path
) -> None:
    """The alert's link fails for a while (503) and its cancel, next on the feed, refers to
    it: the cancel is not refused for good, it comes again at the next poll, after its
    alert."""
    miyagi = prefecture.org("宮城県", "issuer", MIYAGI, ["04"])
    headers = {"Authorization": f"Bearer {miyagi['token']}", **CAP_XML}
    first = make_alert(MIYAGI, ["042021"], identifier="miyagi-flood-1")
    cancel = make_alert(
        MIYAGI,
        ["042021"],
        identifier="miyagi-flood-3",
        msg_type="Cancel",
        references=reference_to(first),
    )
    folder = tmp_path / "copies"
    folder.mkdir()
    for name, alert in (("first.xml", first), ("cancel.xml", cancel)):
        response = httpx.post(
            f"{prefecture.url}/api/v1/alerts", content=xml(alert), headers=headers
        )
        assert response.status_code == 201, response.text
        signed = httpx.get(f"{prefecture.url}/api/v1/alerts/{response.json()['id']}/cap")
        (folder / name).write_bytes(signed.content)
    with FeedServer(folder) as copies:
        copies.add("cap", "first.xml", "flood")
        copies.add("cap", "cancel.xml", "flood cancelled")
        copies.fail_next["/data/first.xml"] = 10**6  # until told otherwise
        source = {
            "name": "copies",
            "url": copies.base_url + "cap.xml",
            "organization": MIYAGI,
            "certificates": str(prefecture.data_dir / "hub-cert.pem"),
        }
        national = _national_hub(tmp_path, [source])
        try:
            national.org("宮城県", "issuer", MIYAGI, ["04"])
            # a poll that found the organization there took the cancel after its alert failed
            seen = copies.requests["/data/cancel.xml"]
            until_blocking(lambda: copies.requests["/data/cancel.xml"] > seen, seconds=20)
            copies.fail_next["/data/first.xml"] = 0  # the link works again
            until_blocking(lambda: len(_alerts(national)) == 2, seconds=20)
            assert {a["identifier"] for a in _alerts(national)} == {
                "miyagi-flood-1",
                "miyagi-flood-3",
            }
            health = {s["name"]: s for s in _sources(national)}["copies"]
            assert health["refused"] == 0 and health["published"] == 2
        finally:
            national.stop()
