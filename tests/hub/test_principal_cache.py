"""The token cache: a lookup that was reading while the cache was cleared (a token revoked, an
organization's two-person-approval rule turned on) must not put back what it read."""

from __future__ import annotations

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.hub.services import PrincipalCache


def _caller(approval: bool) -> Principal:
    return Principal(
        organization_id="org",
        organization_name="東京都千代田区",
        token_id="token",
        roles=frozenset({"publish"}),
        sender="city.chiyoda.tokyo.jp",
        jurisdiction=Jurisdiction(frozenset({"131016"})),
        two_person_approval=approval,
    )


def test_a_lookup_from_before_a_clear_is_not_kept() -> None:
    cache = PrincipalCache()
    generation = cache.generation  # a lookup starts reading ...
    cache.clear()  # ... the rule changes meanwhile ...
    cache.put("hash", _caller(approval=False), generation)  # ... and its read comes back
    assert cache.get("hash") is None
    cache.put("hash", _caller(approval=True), cache.generation)
    cached = cache.get("hash")
    assert cached is not None and cached.two_person_approval is True
