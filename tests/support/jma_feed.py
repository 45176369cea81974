"""A local stand-in for the JMA's feed server: Atom feeds over real HTTP, with ETags.

Serves ``/feed/{name}.xml`` (an Atom feed of the entries added so far, newest first as the JMA
writes it) and ``/data/{file}`` (the report files from a folder). Honours ``If-None-Match``
with a 304, and counts what it was asked, so tests can check the poller's manners.

For bad days: ``answers`` gives a path a fixed answer (a 500, a redirect), ``trickle`` makes a
path answer one byte every ``trickle_seconds``, and ``add`` takes an entry's own ``updated``
text and link.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape


class FeedServer:
    def __init__(self, data_dir: Path, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.host = host
        self.entries: dict[str, list[tuple[str, str, str]]] = {}  # feed → (id, title, file)
        self.updated: dict[str, str] = {}  # entry id → its own <updated> text
        self.links: dict[str, str] = {}  # entry id → its own link
        self.answers: dict[str, tuple[int, bytes, dict[str, str]]] = {}  # path → fixed answer
        self.trickle: set[str] = set()  # paths answered a byte at a time
        self.trickle_seconds = 5.0
        self.added_at: dict[str, float] = {}  # file → time.time() it appeared in a feed
        self.requests: Counter[str] = Counter()
        self.not_modified = 0
        self.fail_next: dict[str, int] = {}  # path → how many requests to answer 503
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}/feed/"

    def data_url(self, file: str) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}/data/{file}"

    def add(
        self,
        feed: str,
        file: str,
        title: str = "JMA report",
        *,
        updated: str | None = None,
        link: str | None = None,
    ) -> None:
        with self._lock:
            entry_id = f"urn:jma:{file}"
            self.entries.setdefault(feed, []).append((entry_id, title, file))
            self.added_at[file] = time.time()
            if updated is not None:
                self.updated[entry_id] = updated
            if link is not None:
                self.links[entry_id] = link

    def feed_xml(self, feed: str) -> bytes:
        with self._lock:
            entries = list(reversed(self.entries.get(feed, [])))
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">',
            f"<title>{feed}</title><id>urn:feed:{feed}</id><updated>{now}</updated>",
        ]
        for number, (entry_id, title, file) in enumerate(entries):
            updated = self.updated.get(entry_id, f"2026-01-01T00:{59 - number % 60:02d}:00Z")
            link = self.links.get(entry_id, self.data_url(file))
            # An entry without a title is written short (no author, no content): big feeds.
            about = (
                "<author><name>気象庁</name></author>"
                f'<content type="text">{escape(title)}</content>'
                if title
                else ""
            )
            parts.append(
                f"<entry><title>{escape(title)}</title><id>{escape(entry_id)}</id>"
                f"<updated>{escape(updated)}</updated>"
                f'<link type="application/xml" href="{escape(link)}"/>{about}</entry>'
            )
        parts.append("</feed>")
        return "".join(parts).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests[self.path] += 1
                failing = server.fail_next.get(self.path, 0)
                if failing:
                    server.fail_next[self.path] = failing - 1
                    self._answer(503, b"busy")
                    return
                if self.path in server.answers:
                    self._answer(*server.answers[self.path])
                    return
                if self.path in server.trickle:
                    self._trickle()
                    return
                if self.path.startswith("/feed/") and self.path.endswith(".xml"):
                    body = server.feed_xml(self.path[len("/feed/") : -len(".xml")])
                    etag = '"' + hashlib.sha256(body.split(b"</updated>", 1)[1]).hexdigest() + '"'
                    if self.headers.get("If-None-Match") == etag:
                        server.not_modified += 1
                        self._answer(304, b"", {"ETag": etag})
                        return
                    self._answer(200, body, {"ETag": etag, "Content-Type": "application/atom+xml"})
                elif self.path.startswith("/data/"):
                    path = server.data_dir / Path(self.path[len("/data/") :]).name
                    if not path.is_file():
                        self._answer(404, b"not found")
                        return
                    self._answer(200, path.read_bytes(), {"Content-Type": "application/xml"})
                else:
                    self._answer(404, b"not found")

            def _trickle(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    while True:
                        self.wfile.write(b"<")
                        self.wfile.flush()
                        time.sleep(server.trickle_seconds)
                except OSError:
                    pass  # the client gave up

            def _answer(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
