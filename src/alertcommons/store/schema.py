"""The tables, in SQLAlchemy Core. Migrations in ``migrations/`` create exactly these.

Times are UTC (:class:`UTCDateTime`). Alert content is kept twice on purpose: the signed XML
exactly as distributed (never rewritten) and its JSON form for queries and the API.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from alertcommons.store.types import UTCDateTime

metadata = MetaData()

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # issuer | receiver | both | operator
    Column("sender", Text, nullable=True, unique=True),  # the CAP sender it publishes as
    Column("jurisdiction", Text, nullable=False, default="[]"),  # JSON list of area codes
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Console drafts need a second person's approval before they are published.
    Column("two_person_approval", Boolean, nullable=False, default=False),
    # JSON list of the languages its standard messages are written in; NULL: every one.
    Column("languages", Text, nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("roles", Text, nullable=False),  # comma-separated: admin, issuer, receiver
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256, hex
    Column("hint", String(16), nullable=False),  # last characters, to tell tokens apart
    Column("label", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("sender", Text, nullable=False),
    Column("identifier", Text, nullable=False),
    Column("sent", UTCDateTime, nullable=False),
    Column("sent_text", Text, nullable=False),  # as the alert says it, with its offset
    Column("status", String(16), nullable=False),
    Column("msg_type", String(16), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("effective", UTCDateTime, nullable=False),
    Column("expires", UTCDateTime, nullable=True),  # the latest info/expires; none = open
    Column("urgency", String(16), nullable=True),  # the most pressing across info blocks
    Column("severity", String(16), nullable=True),
    Column("certainty", String(16), nullable=True),
    Column("content_hash", String(64), nullable=False),  # SHA-256 of the canonical CAP
    Column("cap_xml", LargeBinary, nullable=False),  # signed, exactly as distributed
    Column("cap_json", Text, nullable=False),
    Column("superseded_by", String(32), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("sender", "identifier", name="uq_alerts_sender_identifier"),
)
Index("ix_alerts_received", alerts.c.received_at)
Index("ix_alerts_expires", alerts.c.expires)

alert_areas = Table(
    "alert_areas",
    metadata,
    Column("alert_id", String(32), ForeignKey("alerts.id"), nullable=False),
    Column("code", String(16), nullable=False),  # canonical local-government code: 2 or 5
    UniqueConstraint("alert_id", "code", name="uq_alert_areas"),
)
Index("ix_alert_areas_code", alert_areas.c.code)

alert_references = Table(
    "alert_references",
    metadata,
    Column("alert_id", String(32), ForeignKey("alerts.id"), nullable=False),
    Column("referenced_id", String(32), ForeignKey("alerts.id"), nullable=False),
    UniqueConstraint("alert_id", "referenced_id", name="uq_alert_references"),
)
Index("ix_alert_references_referenced", alert_references.c.referenced_id)

# A receiver's way in: a channel, its settings (secrets included: they sign or log in), and
# the filter choosing which alerts it gets.
endpoints = Table(
    "endpoints",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("config", Text, nullable=False),  # JSON
    Column("filter", Text, nullable=False),  # JSON
    Column("label", Text, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("failing_since", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    # A receiving site this endpoint is one route to (delivery_sites); NULL: on its own.
    Column("site_id", String(32), nullable=True),
    Column("route_order", Integer, nullable=True),  # lower is tried first; NULL counts as 0
)
Index("ix_endpoints_organization", endpoints.c.organization_id)

# A receiving site (a newsroom, a city hall) reached by several routes, its endpoints: one
# acknowledged route reaches it; a route that fails or is not acknowledged within
# ack_timeout_s makes the next one due (delivery/sites.py, store/failover.py).
delivery_sites = Table(
    "delivery_sites",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("ack_timeout_s", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("organization_id", "name", name="uq_delivery_sites_org_name"),
)

# The outbox: one row per (alert, endpoint), written in the alert's own transaction.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("alert_id", String(32), ForeignKey("alerts.id"), nullable=False),
    Column("endpoint_id", String(32), nullable=False),
    Column("priority", Integer, nullable=False),
    # pending (waiting, or retrying) | sending (claimed) | delivered | acknowledged | failed
    # | standby (a site's later route, due if the earlier ones fail or go unacknowledged)
    # | skipped (the site was reached by another route: never sent, or no more retries)
    Column("state", String(16), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),  # retries stop when the alert expires
    Column("latency_ms", Float, nullable=True),  # from sending to the receiver's response
    # The site this delivery is one route to (fixed when it was queued) and its rank there.
    Column("site_id", String(32), nullable=True),
    Column("route", Integer, nullable=True),
    UniqueConstraint("alert_id", "endpoint_id", name="uq_deliveries_alert_endpoint"),
)
Index("ix_deliveries_due", deliveries.c.state, deliveries.c.priority, deliveries.c.due_at)
Index("ix_deliveries_endpoint", deliveries.c.endpoint_id)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),  # organization id (and token id) or "system"
    Column("action", String(64), nullable=False),
    Column("subject", Text, nullable=True),
    Column("detail", Text, nullable=False),  # JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # 0: plain SHA-256, written before the audit key existed; 1: HMAC-SHA256 with the
    # audit key kept outside the database (see store/audit.py).
    Column("chain_version", Integer, nullable=False, server_default="0"),
)

# One row: the chain's head. Locking it serializes appends across writers and nodes.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Which keys outside the database this database was written with: a fingerprint (an HMAC of
# a fixed label, revealing nothing of the key) per key name, recorded by the first node. A
# node with other key files refuses to start rather than fork the audit chain or seal
# settings that the other nodes cannot open.
store_keys = Table(
    "store_keys",
    metadata,
    Column("name", String(32), primary_key=True),  # "audit" | "secrets"
    Column("fingerprint", String(64), nullable=False),
    Column("first_used_at", UTCDateTime, nullable=False),
)


users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),  # scrypt, see auth/passwords.py
    Column("roles", Text, nullable=False),  # comma-separated: drafter, approver, admin
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the cookie
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organization_id", String(32), ForeignKey("organizations.id"), nullable=False),
    Column("created_by", String(32), ForeignKey("users.id"), nullable=False),
    Column("template", String(32), nullable=False),
    Column("form", Text, nullable=False),  # JSON: the compose form, rebuilt when approved
    Column("summary", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | published | rejected
    Column("decided_by", String(32), ForeignKey("users.id"), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("alert_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_drafts_org_state", drafts.c.organization_id, drafts.c.state)

# Every certificate the hub has signed with, so signatures made before a key change still
# verify (the public pages and /api/v1/keys use them all).
hub_keys = Table(
    "hub_keys",
    metadata,
    Column("id", String(16), primary_key=True),  # SHA-256 of the certificate, 16 hex digits
    Column("certificate", Text, nullable=False),  # PEM
    Column("algorithm", String(32), nullable=False),
    Column("first_used_at", UTCDateTime, nullable=False),
)


# The cluster's current signing key: one row, the private key sealed under the secrets key
# (store/sealed.py), so every node sharing the database signs with the same key.
cluster_signing_key = Table(
    "cluster_signing_key",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("key_id", String(16), nullable=False),
    Column("sealed_key", Text, nullable=False),
    Column("certificate", Text, nullable=False),  # PEM
    Column("set_at", UTCDateTime, nullable=False),
)

# The health of each source the hub reads (CAP feeds, hub/cap_ingest.py): kept across
# restarts, so an operator sees what a source did before the hub last started.
feed_sources = Table(
    "feed_sources",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("health", Text, nullable=False),  # JSON
    Column("updated_at", UTCDateTime, nullable=False),
)

# A municipality's registered districts (地区): a name, its reading and outline (GeoJSON
# Polygon or MultiPolygon), in the order of the imported file. Compose offers them by name.
jp_districts = Table(
    "jp_districts",
    metadata,
    Column("municipality", String(5), primary_key=True),  # canonical 5-digit code
    Column("name", String(100), primary_key=True),
    Column("kana", String(100), nullable=True),
    Column("geometry", Text, nullable=False),  # GeoJSON geometry
    Column("position", Integer, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

# A municipality's designated sites: 指定緊急避難場所 (kind emergency_site) and 指定避難所
# (kind shelter), each under the municipality's own stable id (the open data's NO/共通ID).
jp_designated_sites = Table(
    "jp_designated_sites",
    metadata,
    Column("municipality", String(5), primary_key=True),
    Column("kind", String(16), primary_key=True),  # emergency_site | shelter
    Column("site_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kana", String(200), nullable=True),
    Column("address", Text, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("capacity", Integer, nullable=True),
    Column("hazards", Text, nullable=False),  # JSON list of hazard keys it is safe for
    Column("note", Text, nullable=True),
    Column("position", Integer, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

# CAP sources added through the admin API or console (hub/sources.py); those configured in
# settings are not here. Every node reads this table, so a source added on one starts on all.
cap_sources = Table(
    "cap_sources",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("url", Text, nullable=False),  # "" for a directory
    Column("directory", Text, nullable=False),  # "" for a feed
    Column("organization", String(128), nullable=False),  # id or sender of an issuer
    Column("certificates", Text, nullable=False),  # PEM, "" for none
    Column("allow_unsigned", Boolean, nullable=False, default=False),
    Column("allowed_hosts", Text, nullable=False),  # JSON list
    Column("poll_seconds", Float, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Which node polls a source, until when: two nodes on one database never both fetch and
# republish the same feed; a node that dies loses its leases when they run out.
source_leases = Table(
    "source_leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("node", String(64), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)
