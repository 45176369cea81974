"""Organizations and tokens: admin-only management, hashed tokens, revocation, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alertcommons.store import audit
from alertcommons.store.schema import tokens
from alertcommons.store.tokens import hash_token
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio


async def test_create_list_read_update(hub: Hub) -> None:
    created = await hub.org("東京都千代田区", "city.chiyoda.tokyo.jp", ["131016", "13104"])
    assert created["token"].startswith("ac_")
    assert created["jurisdiction"] == ["13101", "13104"]  # canonical form
    listing = (await hub.client.get("/api/v1/organizations", headers=hub.admin)).json()
    assert created["id"] in [org["id"] for org in listing["items"]]
    own = await hub.client.get(f"/api/v1/organizations/{created['id']}", headers=created["headers"])
    assert own.status_code == 200
    patched = await hub.client.patch(
        f"/api/v1/organizations/{created['id']}",
        json={"jurisdiction": ["13"]},
        headers=hub.admin,
    )
    assert patched.json()["jurisdiction"] == ["13"]
    actions = [r["action"] for r in await hub.services.store.read(audit.records)]
    assert {"org.create", "org.update"} <= set(actions)


async def test_tokens_are_hashed_at_rest(hub: Hub) -> None:
    created = await hub.chiyoda()
    stored = await hub.services.store.read(
        lambda c: [row.token_hash for row in c.execute(select(tokens))]
    )
    assert hash_token(created["token"]) in stored
    assert all(created["token"] not in value for value in stored)
    listing = await hub.client.get(
        f"/api/v1/organizations/{created['id']}/tokens", headers=created["headers"]
    )
    assert created["token"] not in listing.text


async def test_revoked_token_stops_working(hub: Hub) -> None:
    created = await hub.chiyoda()
    assert (await hub.client.get("/api/v1/me", headers=created["headers"])).status_code == 200
    extra = await hub.client.post(
        f"/api/v1/organizations/{created['id']}/tokens", json={"label": "spare"}, headers=hub.admin
    )
    assert extra.status_code == 201
    revoke = await hub.client.delete(
        f"/api/v1/organizations/{created['id']}/tokens/{created['token_id']}",
        headers=hub.admin,
    )
    assert revoke.status_code == 204
    assert (await hub.client.get("/api/v1/me", headers=created["headers"])).status_code == 401
    spare = {"Authorization": f"Bearer {extra.json()['token']}"}
    me = (await hub.client.get("/api/v1/me", headers=spare)).json()
    assert me["sender"] == "city.chiyoda.tokyo.jp"
    actions = [r["action"] for r in await hub.services.store.read(audit.records)]
    assert {"token.create", "token.revoke"} <= set(actions)


async def test_non_admin_cannot_manage(hub: Hub) -> None:
    created = await hub.chiyoda()
    other = await hub.org("東京都新宿区", "city.shinjuku.tokyo.jp", ["131041"])
    body = {"name": "x", "kind": "issuer", "sender": "x", "jurisdiction": ["13"]}
    refused = await hub.client.post("/api/v1/organizations", json=body, headers=created["headers"])
    assert refused.status_code == 403
    peek = await hub.client.get(f"/api/v1/organizations/{other['id']}", headers=created["headers"])
    assert peek.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"name": "x", "kind": "issuer", "sender": "s", "jurisdiction": ["131017"]},
            422,
            "check digit",
        ),
        ({"name": "x", "kind": "issuer", "sender": "a b", "jurisdiction": ["13"]}, 422, "sender"),
        ({"name": "x", "kind": "issuer", "jurisdiction": ["13"]}, 422, "sender"),
        ({"name": "x", "kind": "emperor", "sender": "s", "jurisdiction": []}, 422, "kind"),
    ],
)
async def test_bad_organizations_refused(
    hub: Hub, body: dict[str, object], status: int, words: str
) -> None:
    response = await hub.client.post("/api/v1/organizations", json=body, headers=hub.admin)
    assert response.status_code == status
    assert words in response.text


async def test_duplicate_sender_is_409(hub: Hub) -> None:
    await hub.chiyoda()
    body = {
        "name": "copy",
        "kind": "issuer",
        "sender": "city.chiyoda.tokyo.jp",
        "jurisdiction": ["13"],
    }
    response = await hub.client.post("/api/v1/organizations", json=body, headers=hub.admin)
    assert response.status_code == 409


async def test_audit_chain_intact_after_activity(hub: Hub) -> None:
    for number in range(3):
        await hub.org(f"org {number}", f"sender{number}", ["13"])
    report = await hub.services.store.read(audit.verify_chain)
    assert report.intact and report.records >= 4
