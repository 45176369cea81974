"""Atom feeds of CAP: entries link to the signed CAP, conditional GETs answer 304."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
ATOM = "{http://www.w3.org/2005/Atom}"


async def test_feeds_by_area_with_etag(hub: Hub) -> None:
    org = await hub.org("全国", "jma.go.jp", ["*"])
    headers = {**org["headers"], **CAP_XML}
    tokyo = (
        await hub.client.post(
            "/api/v1/alerts", content=xml(make_alert("jma.go.jp", ["131016"])), headers=headers
        )
    ).json()["id"]
    osaka = (
        await hub.client.post(
            "/api/v1/alerts", content=xml(make_alert("jma.go.jp", ["271004"])), headers=headers
        )
    ).json()["id"]

    response = await hub.client.get("/feeds/13.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert "max-age" in response.headers["cache-control"]
    feed = etree.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    link = entries[0].find(f"{ATOM}link[@type='application/cap+xml']")
    assert link is not None and link.get("type") == "application/cap+xml"
    assert link.get("href", "").endswith(f"/api/v1/alerts/{tokyo}/cap")
    cap = await hub.client.get(link.get("href", ""))
    assert cap.status_code == 200 and b"<Signature" in cap.content

    everything = etree.fromstring((await hub.client.get("/feeds/all.atom")).content)
    ids = [e.findtext(f"{ATOM}id") or "" for e in everything.findall(f"{ATOM}entry")]
    assert ids[0].endswith(osaka) and ids[1].endswith(tokyo)

    etag = response.headers["etag"]
    unchanged = await hub.client.get("/feeds/13.atom", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    await hub.client.post(
        "/api/v1/alerts", content=xml(make_alert("jma.go.jp", ["13"])), headers=headers
    )
    changed = await hub.client.get("/feeds/13.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert len(etree.fromstring(changed.content).findall(f"{ATOM}entry")) == 2


async def test_unknown_feed_is_404_problem(hub: Hub) -> None:
    response = await hub.client.get("/feeds/99999.atom")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_feed_rendered_across_a_publish_is_not_kept(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render that read the alerts before a publish and finished after it answers its own
    request, but is not kept as current: the next request renders again, with the alert."""
    from alertcommons.api import feeds

    real = feeds._render
    renders: list[bytes] = []

    def crossed_by_a_publish(*args: object) -> bytes:
        body: bytes = real(*args)  # type: ignore[arg-type]
        renders.append(body)
        if len(renders) == 1:
            hub.services.rendered.changed()  # what a publish does, landing mid-render
        return body

    monkeypatch.setattr(feeds, "_render", crossed_by_a_publish)
    assert (await hub.client.get("/feeds/13.atom")).status_code == 200
    assert (await hub.client.get("/feeds/13.atom")).status_code == 200
    assert len(renders) == 2  # the first render was not kept
    assert (await hub.client.get("/feeds/13.atom")).status_code == 200
    assert len(renders) == 2  # the second was


def test_a_document_rendered_across_a_change_is_answered_once_and_not_kept() -> None:
    from alertcommons.hub.rendered import RenderedCache

    cache = RenderedCache()
    version = cache.version  # read as the render starts
    cache.changed()  # a publish during the render
    assert cache.put("feed:13", b"old", version).body == b"old"
    assert cache.get("feed:13") is None
    cache.put("feed:13", b"new", cache.version)
    found = cache.get("feed:13")
    assert found is not None and found.body == b"new"
