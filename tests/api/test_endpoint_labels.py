"""An endpoint's label is one line of text: a NUL (which PostgreSQL cannot store: it answered
500) or another control character, a label that is not text, or one longer than the console's
field, is refused with a problem and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

BAD = ["a\u0000b", "line\nbreak", "x" * 201, 5, ["x"]]


async def _items(hub: Hub, rx: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await hub.client.get("/api/v1/endpoints", headers=rx["headers"])
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_label_is_a_line_of_text_or_refused(hub: Hub) -> None:
    rx = await hub.org("Portal", None, [], kind="receiver")
    body = {"channel": "webhook", "url": "http://127.0.0.1:9/a"}
    for label in BAD:
        answer = await hub.client.post(
            "/api/v1/endpoints", json={**body, "label": label}, headers=rx["headers"]
        )
        assert answer.status_code == 422, (label, answer.text)
        assert answer.json()["detail"].startswith("'label'"), answer.text
    assert await _items(hub, rx) == []

    made = await hub.client.post(
        "/api/v1/endpoints", json={**body, "label": "庁内 " + "x" * 197}, headers=rx["headers"]
    )
    assert made.status_code == 201, made.text
    for label in BAD:
        answer = await hub.client.patch(
            f"/api/v1/endpoints/{made.json()['id']}", json={"label": label}, headers=rx["headers"]
        )
        assert answer.status_code == 422, (label, answer.text)
    [item] = await _items(hub, rx)
    assert item["label"] == "庁内 " + "x" * 197
    cleared = await hub.client.patch(
        f"/api/v1/endpoints/{made.json()['id']}", json={"label": None}, headers=rx["headers"]
    )
    assert cleared.status_code == 200 and cleared.json()["label"] is None
