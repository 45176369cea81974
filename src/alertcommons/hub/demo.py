"""Demo data for a first look: a few issuers and receivers, and some alerts in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

from sqlalchemy import Connection, select, update

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import roles_for_kind
from alertcommons.cap import Alert, Area, Info, ValuePair
from alertcommons.cap.values import format_datetime
from alertcommons.hub import places
from alertcommons.jp.evacuation import Order
from alertcommons.jp.evacuation import build as build_evacuation
from alertcommons.jp.places_import import District, Site
from alertcommons.store import audit, orgs, users
from alertcommons.store import places as place_queries
from alertcommons.store.schema import tokens
from alertcommons.store.schema import users as users_table
from alertcommons.store.tokens import hash_token

JST = timezone(timedelta(hours=9))


@dataclass(frozen=True, slots=True)
class DemoOrg:
    id: str
    name: str
    kind: str
    sender: str | None
    jurisdiction: tuple[str, ...]


DEMO_ORGS = (
    DemoOrg("demo-chiyoda", "東京都千代田区", "issuer", "city.chiyoda.tokyo.jp", ("131016",)),
    DemoOrg("demo-shinjuku", "東京都新宿区", "issuer", "city.shinjuku.tokyo.jp", ("131041",)),
    DemoOrg("demo-tokyo", "東京都", "issuer", "metro.tokyo.jp", ("13",)),
    DemoOrg("demo-jma", "気象庁 (demo)", "issuer", "jma.go.jp", ("*",)),
    DemoOrg("demo-broadcaster", "Demo Broadcaster", "receiver", None, ()),
    DemoOrg("demo-portal", "Demo Portal", "receiver", None, ()),
)


def ensure_orgs(connection: Connection, wanted: dict[str, str]) -> None:
    """Create the demo organizations if missing; make each one's token the one in ``wanted``
    (kept in the data directory, see ``hub/demo_credentials.py``), revoking other demo tokens.
    """
    now = datetime.now(UTC)
    for demo in DEMO_ORGS:
        if orgs.get_org(connection, demo.id) is None:
            orgs.create_org(
                connection,
                name=demo.name,
                kind=demo.kind,
                sender=demo.sender,
                jurisdiction=Jurisdiction.parse(list(demo.jurisdiction)).as_list(),
                org_id=demo.id,
            )
            audit.append(
                connection,
                actor="system",
                action="org.create",
                subject=demo.id,
                detail={"name": demo.name, "demo": True},
            )
        wanted_hash = hash_token(wanted[demo.id])
        live = connection.execute(
            select(tokens.c.id).where(
                tokens.c.organization_id == demo.id,
                tokens.c.token_hash == wanted_hash,
                tokens.c.revoked_at.is_(None),
            )
        ).first()
        if live is not None:
            continue  # the same token as at the last start
        connection.execute(
            update(tokens)
            .where(
                tokens.c.organization_id == demo.id,
                tokens.c.label == "demo",
                tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        orgs.issue_token(
            connection, demo.id, roles_for_kind(demo.kind), label="demo", secret=wanted[demo.id]
        )


def ensure_admin(connection: Connection, token: str) -> None:
    """Make ``token`` the demo's admin token (kept in the data directory), revoking any other
    demo admin token: restarts of one data directory leave one live admin token, not many."""
    from alertcommons.hub.bootstrap import OPERATOR_ID

    live = connection.execute(
        select(tokens.c.id).where(
            tokens.c.organization_id == OPERATOR_ID,
            tokens.c.token_hash == hash_token(token),
            tokens.c.revoked_at.is_(None),
        )
    ).first()
    if live is not None:
        return
    connection.execute(
        update(tokens)
        .where(
            tokens.c.organization_id == OPERATOR_ID,
            tokens.c.label == "demo",
            tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )
    issued = orgs.issue_token(connection, OPERATOR_ID, ("admin",), label="demo", secret=token)
    audit.append(
        connection,
        actor="system",
        action="token.create",
        subject=issued.id,
        detail={"organization_id": OPERATOR_ID, "demo": True},
    )


def has_alerts(connection: Connection) -> bool:
    from alertcommons.store.schema import alerts

    return connection.execute(select(alerts.c.id).limit(1)).first() is not None


def demo_alerts(now: datetime | None = None) -> list[tuple[str, Alert]]:
    """(organization id, alert) pairs, dated around ``now``."""
    moment = (now or datetime.now(UTC)).astimezone(JST).replace(microsecond=0)
    sent = format_datetime(moment)
    later = format_datetime(moment + timedelta(hours=12))
    evacuation = build_evacuation(
        Order(municipality="13101", level=4, hazard="heavy_rain", hours=12),
        "city.chiyoda.tokyo.jp",
        now=moment,
    )
    warning = Alert(
        identifier=f"demo-jma-{moment:%Y%m%d%H%M%S}-rain",
        sender="jma.go.jp",
        sent=sent,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=[
            Info(
                language="ja-JP",
                categories=["Met"],
                event="大雨警報",
                urgency="Expected",
                severity="Severe",
                certainty="Likely",
                effective=sent,
                expires=later,
                sender_name="気象庁",
                headline="東京都に大雨警報",
                areas=[Area(area_desc="東京都", geocodes=[ValuePair("JIS X 0402", "130001")])],
            )
        ],
    )
    return [("demo-chiyoda", evacuation), ("demo-jma", warning)]


# Console accounts of the demo: username → (organization, display name, roles).
DEMO_USERS = {
    "admin": ("operator", "運用管理者", ("admin",)),
    "chiyoda": ("demo-chiyoda", "千代田区 防災担当", ("drafter", "approver")),
    "chiyoda-drafter": ("demo-chiyoda", "千代田区 作成担当", ("drafter",)),
    "tokyo": ("demo-tokyo", "東京都 防災担当", ("drafter", "approver")),
    "broadcaster": ("demo-broadcaster", "Demo Broadcaster", ("viewer",)),
}


def ensure_users(connection: Connection, password_hashes: dict[str, str]) -> None:
    """Create the demo console accounts, or set their passwords to the kept ones (which also
    lifts a lock-out from earlier tries)."""
    for username, (org_id, display_name, roles) in DEMO_USERS.items():
        row = users.by_username(connection, username)
        if row is None:
            users.create_user(
                connection,
                organization_id=org_id,
                username=username,
                display_name=display_name,
                password_hash=password_hashes[username],
                roles=list(roles),
            )
        else:
            connection.execute(
                update(users_table)
                .where(users_table.c.id == row.id)
                .values(password_hash=password_hashes[username], failed_logins=0, locked_until=None)
            )


# 千代田区's districts and designated sites, shipped in jp/demo_places/ (illustrative data:
# see the README there).
DEMO_PLACES_CODE = "13101"
DEMO_PLACE_FILES = {
    "districts": "chiyoda-districts.geojson",
    "shelters": "chiyoda-shelters.csv",
    "emergency_sites": "chiyoda-emergency-sites.csv",
}


@dataclass(frozen=True, slots=True)
class DemoPlaces:
    districts: list[District]
    sites: list[Site]
    data: dict[str, bytes]


def demo_place_file(name: str) -> bytes:
    return resources.files("alertcommons.jp").joinpath("demo_places", name).read_bytes()


def parse_demo_places() -> DemoPlaces:
    """The demo's districts and sites, read as an import reads them (CPU: not in a
    transaction)."""
    data = {kind: demo_place_file(name) for kind, name in DEMO_PLACE_FILES.items()}
    sites = [
        *places.parse_sites(DEMO_PLACES_CODE, data["shelters"], "text/csv", None),
        *places.parse_sites(DEMO_PLACES_CODE, data["emergency_sites"], "text/csv", None),
    ]
    return DemoPlaces(places.parse_districts(DEMO_PLACES_CODE, data["districts"]), sites, data)


def ensure_places(connection: Connection, demo: DemoPlaces) -> None:
    """Register the demo's districts and sites for 千代田区 unless it has some already
    (an officer's own imports are never overwritten by a restart)."""
    have = place_queries.counts(connection, DEMO_PLACES_CODE)
    if not have["districts"]:
        places.store_districts(
            connection, "system", DEMO_PLACES_CODE, demo.districts, demo.data["districts"]
        )
    if len(have) == 1:  # no sites of any kind
        places.store_sites(
            connection,
            "system",
            DEMO_PLACES_CODE,
            demo.sites,
            demo.data["shelters"] + demo.data["emergency_sites"],
        )
