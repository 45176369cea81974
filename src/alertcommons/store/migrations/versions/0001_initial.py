"""Initial schema: organizations, tokens, alerts, areas, references, outbox, audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("jurisdiction", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("sent", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("effective", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires", alertcommons.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("certainty", sa.String(length=16), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("cap_xml", sa.LargeBinary(), nullable=False),
        sa.Column("cap_json", sa.Text(), nullable=False),
        sa.Column("superseded_by", sa.String(length=32), nullable=True),
        sa.Column(
            "received_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "identifier", name="uq_alerts_sender_identifier"),
    )
    op.create_index("ix_alerts_expires", "alerts", ["expires"], unique=False)
    op.create_index("ix_alerts_received", "alerts", ["received_at"], unique=False)
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column(
            "created_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("revoked_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "alert_areas",
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
        ),
        sa.UniqueConstraint("alert_id", "code", name="uq_alert_areas"),
    )
    op.create_index("ix_alert_areas_code", "alert_areas", ["code"], unique=False)
    op.create_table(
        "alert_references",
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("referenced_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referenced_id"],
            ["alerts.id"],
        ),
        sa.UniqueConstraint("alert_id", "referenced_id", name="uq_alert_references"),
    )
    op.create_index(
        "ix_alert_references_referenced", "alert_references", ["referenced_id"], unique=False
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "delivered_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "acknowledged_at", alertcommons.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "endpoint_id", name="uq_deliveries_alert_endpoint"),
    )
    op.create_index(
        "ix_deliveries_due", "deliveries", ["state", "priority", "due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_alert_references_referenced", table_name="alert_references")
    op.drop_table("alert_references")
    op.drop_index("ix_alert_areas_code", table_name="alert_areas")
    op.drop_table("alert_areas")
    op.drop_table("tokens")
    op.drop_index("ix_alerts_received", table_name="alerts")
    op.drop_index("ix_alerts_expires", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("organizations")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
