"""Reading the JMA's Atom feeds: entries oldest first with absolute report links; hostile or
foreign documents refused."""

from __future__ import annotations

import pytest

from alertcommons.jp.feed import FEED_LIMITS, FeedError, read_feed

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">
  <title>高頻度（随時）</title><id>urn:x</id><updated>2026-11-26T07:00:00Z</updated>
  <entry><title>震源・震度に関する情報</title><id>urn:b</id>
    <updated>2026-11-26T06:59:00Z</updated>
    <link type="application/xml" href="/data/b.xml"/></entry>
  <entry><title>震度速報</title><id>urn:a</id><updated>2026-11-26T06:58:00Z</updated>
    <link type="application/xml" href="https://example.jp/data/a.xml"/></entry>
  <entry><title>no link</title><id>urn:c</id><updated>2026-11-26T06:57:00Z</updated></entry>
</feed>"""


def test_entries_oldest_first_with_absolute_links() -> None:
    entries = read_feed(FEED.encode(), "https://www.data.jma.go.jp/developer/xml/feed/eqvol.xml")
    assert [e.id for e in entries] == ["urn:a", "urn:b"]
    assert entries[1].url == "https://www.data.jma.go.jp/data/b.xml"
    assert entries[0].title == "震度速報"


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom">&x;</feed>',
        b"<rss><channel/></rss>",
        b"not xml at all",
        b"<feed xmlns='http://www.w3.org/2005/Atom'>" + b"<x>" * 200 + b"</x>" * 200 + b"</feed>",
        b" " * (FEED_LIMITS.max_bytes + 1),
    ],
)
def test_hostile_or_foreign_documents_are_refused(document: bytes) -> None:
    with pytest.raises(FeedError):
        read_feed(document, "https://example.jp/feed.xml")
