"""The Atom feeds' fast path: ``GET /feeds/{name}.atom`` answered from the rendered
cache (hub/rendered.py) ahead of the framework's routing, dependency injection and the
middleware chain, which cost most of a cached feed's time in the profile (4,400 req/s
through the route, 16-18,000 here, on the same two cores).

It answers only what the feed route would answer the same way, with the same bytes: a fresh
cache entry under the key the route uses (``feed_key``: ``13101`` and ``131016`` are one
feed), the status, headers and body from the route's own ``answer``, the ``X-Request-ID`` and
access-log line of api/accesslog.py. Anything else goes down the chain unchanged: a miss (the
route renders and fills the cache; this path never writes to it), a stale or dropped entry (the
cache's freshness bound and the drop on publish hold as for the route), a name that is no
feed (the route's 404), another method (``HEAD`` too: the route answers it 405), a query
string, a request body.
"""

from __future__ import annotations

import re
import time

from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from alertcommons.hub.rendered import Rendered
from alertcommons.jp.codes import CodeError

from . import accesslog
from .feeds import answer, cache_key, feed_key

# As the route's ``/feeds/{name}.atom`` (a name is one path segment), but the whole path.
FEED_PATH = re.compile(r"/feeds/([^/]+)\.atom")


class FeedFastPath:
    """In front of the whole app (app.py's ``HubApp``), even the framework's own outer layers;
    ``state`` is the app's, where the running hub's services are."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            started = time.perf_counter()
            found = _fresh(scope, self.state)
            if found is not None:
                await _answer(scope, send, started, *found)
                return
        await self.app(scope, receive, send)


def _fresh(scope: Scope, state: State) -> tuple[Rendered, str] | None:
    """The fresh cached feed the request asks for, and its If-None-Match; None: not ours."""
    if scope.get("query_string") or scope.get("root_path"):
        return None
    match = FEED_PATH.fullmatch(scope["path"])
    if match is None:
        return None
    tags: list[bytes] = []
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            tags.append(value)
        elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return None  # a body: the body limit and the route see it
    services = getattr(state, "services", None)
    if services is None:
        return None  # not started yet
    try:
        key = feed_key(match[1])
    except CodeError:
        return None  # the route's 404
    built = services.rendered.get(cache_key(key))
    if built is None:
        return None
    return built, b",".join(tags).decode("latin-1")


async def _answer(scope: Scope, send: Send, started: float, built: Rendered, tags: str) -> None:
    request_id = accesslog.request_id(scope)
    status, headers, body = answer(built, tags)
    headers.append((b"x-request-id", request_id.encode()))
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    finally:
        accesslog.log_request(scope, status, started, request_id)
