"""``alertcommons status`` names each receiving site's state and which route reached it."""

from __future__ import annotations

from alertcommons.commands.status import _site_line


def test_a_site_line_marks_the_route_that_reached_it() -> None:
    site = {
        "site_id": "01SITE",
        "name": None,  # hidden from an issuer
        "organization": "Newsroom",
        "state": "reached",
        "reached_by": "d2",
        "routes": [
            {"delivery_id": "d1", "route": 0, "channel": "webhook", "state": "skipped"},
            {"delivery_id": "d2", "route": 1, "channel": "mqtt", "state": "acknowledged"},
        ],
    }
    assert _site_line(site) == "  site Newsroom: reached  [webhook:skipped >mqtt:acknowledged]"
