"""One problem shape (RFC 9457) for every 4xx, pinned here; never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert str(body["type"]).startswith("https://alertcommons.org/problems/")
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def test_problem_shape_for_each_status(hub: Hub) -> None:
    org = await hub.chiyoda()
    cases = [
        (await hub.client.post("/api/v1/alerts", content=b"x", headers=CAP_XML), 401),
        (
            await hub.client.post(
                "/api/v1/alerts", content=b"x", headers={"Authorization": "Bearer wrong"}
            ),
            401,
        ),
        (await hub.client.get("/api/v1/organizations", headers=org["headers"]), 403),
        (await hub.client.get("/api/v1/alerts/NOPE"), 404),
        (await hub.client.put("/api/v1/alerts"), 405),
        (
            await hub.client.post(
                "/api/v1/alerts",
                content=b"hello",
                headers={**org["headers"], "Content-Type": "text/plain"},
            ),
            415,
        ),
        (await hub.client.get("/api/v1/alerts", params={"limit": "0"}), 422),
        (
            await hub.client.post(
                "/api/v1/alerts", content=b"<alert", headers={**org["headers"], **CAP_XML}
            ),
            422,
        ),
    ]
    for response, status in cases:
        body = assert_problem(response, status)
        assert body["instance"] == response.request.url.path
    unauthorized = cases[0][0]
    assert unauthorized.headers["www-authenticate"] == "Bearer"


async def test_body_over_limit_is_413(hub: Hub) -> None:
    org = await hub.chiyoda()
    response = await hub.client.post(
        "/api/v1/alerts", content=b"<" * (300 * 1024), headers={**org["headers"], **CAP_XML}
    )
    assert_problem(response, 413)


async def test_streamed_body_over_limit_is_413(hub: Hub) -> None:
    org = await hub.chiyoda()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 10_000

    response = await hub.client.post(
        "/api/v1/alerts", content=chunks(), headers={**org["headers"], **CAP_XML}
    )
    assert_problem(response, 413)


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\xff" * 100,
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
        b"<a>" * 5000,
        '{"identifier": "日本"}'.encode("utf-16"),
    ],
)
async def test_hostile_bodies_are_4xx(hub: Hub, body: bytes) -> None:
    org = await hub.chiyoda()
    for content_type in ("application/cap+xml", "application/json"):
        response = await hub.client.post(
            "/api/v1/alerts",
            content=body,
            headers={**org["headers"], "Content-Type": content_type},
        )
        assert 400 <= response.status_code < 500, response.text
        assert_problem(response, response.status_code)


async def test_receiver_token_cannot_publish(hub: Hub) -> None:
    receiver = await hub.org("Broadcaster", None, [], kind="receiver")
    response = await hub.client.post(
        "/api/v1/alerts",
        content=xml(make_alert("city.chiyoda.tokyo.jp", ["131016"])),
        headers={**receiver["headers"], **CAP_XML},
    )
    assert_problem(response, 403)
