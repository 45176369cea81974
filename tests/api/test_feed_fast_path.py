"""The Atom feed's fast path (api/feedpath.py) answers a cached feed ahead of the framework:
its answers — status, headers, body, access-log line — are the routed answers byte for byte;
a publish shows at once; anything it does not serve falls through to the route."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from alertcommons.api.feedpath import FeedFastPath
from alertcommons.hub import rendered
from alertcommons.logs import ACCESS
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio
RID = {"X-Request-ID": "feed-test-1"}


class Routes:
    """The fast path of the hub's app, with the chain beneath it counted: every request for a
    path under /feeds/ that reaches the chain fell through."""

    def __init__(self, hub: Hub) -> None:
        app: Any = hub.client._transport.app  # type: ignore[attr-defined]
        fast: FeedFastPath = app.feeds
        self.below = fast.app
        self.fell_through = 0
        fast.app = self._counted

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.fell_through += scope["path"].startswith("/feeds/")
        await self.below(scope, receive, send)

    def routed(self) -> httpx.AsyncClient:
        """A client of the same app without the fast path: the chain and the route."""

        below: ASGIApp = self.below
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=below), base_url="http://hub")


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger=ACCESS)
    yield caplog


def _fields(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    """The last access-log line's facts, but its duration."""
    line = dict(caplog.records[-1].fields)  # type: ignore[attr-defined]
    assert caplog.records[-1].name == ACCESS
    line.pop("ms")
    return line


async def _publish(hub: Hub, org: dict[str, Any], code: str) -> str:
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert("jma.go.jp", [code])),
        headers={**org["headers"], **CAP_XML},
    )
    assert response.status_code == 201, response.text
    alert_id: str = response.json()["id"]
    return alert_id


def _same(fast: httpx.Response, routed: httpx.Response) -> None:
    assert fast.status_code == routed.status_code
    assert fast.headers.raw == routed.headers.raw  # names, values and order
    assert fast.content == routed.content


async def test_fast_answers_are_the_routed_answers(
    hub: Hub, access: pytest.LogCaptureFixture
) -> None:
    org = await hub.org("全国", "jma.go.jp", ["*"])
    await _publish(hub, org, "131016")
    routes = Routes(hub)
    first = await hub.client.get("/feeds/13101.atom", headers=RID)  # a miss: the route fills
    assert first.status_code == 200 and routes.fell_through == 1
    etag = first.headers["etag"]
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/feeds/13101.atom", RID),
        ("GET", "/feeds/131016.atom", RID),  # the same feed by its 6-digit code: one entry
        ("GET", "/feeds/13101.atom", {**RID, "If-None-Match": etag}),
        ("GET", "/feeds/13101.atom", {**RID, "If-None-Match": f'"other", W/{etag}'}),
        ("GET", "/feeds/13101.atom", {**RID, "If-None-Match": "*"}),
        ("GET", "/feeds/13101.atom", {**RID, "If-None-Match": '"other"'}),
        ("GET", "/feeds/13101.atom", {"X-Request-ID": "bad id <x>"}),
    ]
    async with routes.routed() as routed_client:
        for method, path, headers in cases:
            fast = await hub.client.request(method, path, headers=headers)
            fast_line = _fields(access)
            assert routes.fell_through == 1, (method, path, headers)  # answered by the fast path
            routed = await routed_client.request(method, path, headers=headers)
            routed_line = _fields(access)
            if headers.get("X-Request-ID") == RID["X-Request-ID"]:
                _same(fast, routed)
                assert fast_line == routed_line
            else:  # a new request id each time: the rest is the same
                assert fast.headers["x-request-id"] != routed.headers["x-request-id"]
                assert len(fast.headers["x-request-id"]) == 16
                assert fast.content == routed.content and fast.status_code == routed.status_code
                fast_line.pop("request_id"), routed_line.pop("request_id")
                assert fast_line == routed_line
    statuses = [(await hub.client.request(m, p, headers=h)).status_code for m, p, h in cases[:-1]]
    assert statuses == [200, 200, 304, 304, 304, 200]
    assert routes.fell_through == 1


async def test_a_publish_shows_in_the_next_answer(hub: Hub) -> None:
    org = await hub.org("全国", "jma.go.jp", ["*"])
    await _publish(hub, org, "131016")
    routes = Routes(hub)
    before = await hub.client.get("/feeds/all.atom")
    assert (await hub.client.get("/feeds/all.atom")).content == before.content
    assert routes.fell_through == 1  # the second from the cache
    newer = await _publish(hub, org, "271004")
    unchanged = {"If-None-Match": before.headers["etag"]}
    after = await hub.client.get("/feeds/all.atom", headers=unchanged)
    assert after.status_code == 200 and newer.encode() in after.content
    assert after.headers["etag"] != before.headers["etag"]
    assert routes.fell_through == 2  # the publish dropped the entry: the route rendered anew


async def test_what_it_does_not_serve_falls_through(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await hub.org("全国", "jma.go.jp", ["*"])
    await _publish(hub, org, "131016")
    routes = Routes(hub)
    assert (await hub.client.get("/feeds/all.atom")).status_code == 200
    assert routes.fell_through == 1
    unusual = [
        await hub.client.get("/feeds/all.atom?x=1"),  # a query string
        await hub.client.post("/feeds/all.atom"),  # another method: the route's 405
        await hub.client.head("/feeds/all.atom"),  # HEAD too, as the route answers it
        await hub.client.request("GET", "/feeds/all.atom", content=b"x"),  # a body
        await hub.client.get("/feeds/all.atom/"),  # another path
        await hub.client.get("/feeds/99999.atom"),  # no such feed: the route's 404
        await hub.client.get("/feeds/%2e%2e.atom"),
    ]
    assert [r.status_code for r in unusual][:3] == [200, 405, 405]
    assert unusual[5].status_code == 404
    assert routes.fell_through == 1 + len(unusual)
    # A stale entry is not served: the route renders again.
    monkeypatch.setattr(rendered, "FRESH_SECONDS", -1.0)
    assert (await hub.client.get("/feeds/all.atom")).status_code == 200
    assert routes.fell_through == 2 + len(unusual)
