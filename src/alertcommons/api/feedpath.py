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
from typing import Any

from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from alertcommons.hub.rendered import Rendered
from alertcommons.jp.codes import CodeError

from . import accesslog
from .feeds import answer, cache_key, feed_key

# As the route's ``/feeds/{name}.atom`` (a name is one path segment), but the whole path.
FEED_PATH = re.compile(r"/feeds/([^/]+)\.atom")
# The cache key each path asked for names ("" for no feed): the same path is asked for again
# and again, and matching and normalizing it each time was a fifth of this path's cost.
# Bounded, as paths are the clients' to choose.
KEYS_KEPT = 1024
NOT_A_FEED = ""


class FeedFastPath:
    """In front of the whole app (app.py's ``HubApp``), even the framework's own outer layers;
    ``state`` is the app's, where the running hub's services are."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state
        self._values: dict[str, Any] = state._state
        self._keys: dict[str, str] = {}
        # The last 200 answer's headers, and the document they were made for.
        self._last: tuple[Rendered | None, list[tuple[bytes, bytes]]] = (None, [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            started = time.perf_counter()
            found = self._fresh(scope)
            if found is not None:
                await self._answer(scope, send, started, *found)
                return
        await self.app(scope, receive, send)

    def _fresh(self, scope: Scope) -> tuple[Rendered, str, bytes] | None:
        """The fresh cached feed the request asks for, its If-None-Match and X-Request-ID;
        None: not ours."""
        if scope.get("query_string") or scope.get("root_path"):
            return None
        path = scope["path"]
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = _cache_key(path)
            if len(self._keys) > KEYS_KEPT:
                self._keys = {path: key}
        if key == NOT_A_FEED:
            return None
        tags: list[bytes] = []
        given = b""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                tags.append(value)
            elif name == b"x-request-id":
                given = value  # the last one, as accesslog.request_id takes
            elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
                return None  # a body: the body limit and the route see it
        # The state's own mapping: reading it as an attribute goes through State.__getattr__.
        services = self._values.get("services")
        if services is None:
            return None  # not started yet
        built = services.rendered.get(key)
        if built is None:
            return None
        return built, b",".join(tags).decode("latin-1"), given

    async def _answer(
        self, scope: Scope, send: Send, started: float, built: Rendered, tags: str, given: bytes
    ) -> None:
        request_id = accesslog.new_or_given(given)
        last, head = self._last
        if tags or built is not last:
            status, head, body = answer(built, tags)
            if status == 200:
                self._last = (built, head)
        else:
            status, body = 200, built.body
        # The same answer as the route's (api/feeds.py's ``answer``), with the request's id.
        headers = [*head, (b"x-request-id", request_id.encode())]
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            accesslog.log_request(scope, status, started, request_id)


def _cache_key(path: str) -> str:
    """The cache key of the feed ``path`` names, or ``NOT_A_FEED`` (the route's 404 too)."""
    match = FEED_PATH.fullmatch(path)
    if match is None:
        return NOT_A_FEED
    try:
        return cache_key(feed_key(match[1]))
    except CodeError:
        return NOT_A_FEED
