"""Endpoints, and what the dispatcher needs on deliveries: claims, expiry, latency.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = alertcommons.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("last_success_at", UTC(timezone=True), nullable=True),
        sa.Column("failing_since", UTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_endpoints_organization", "endpoints", ["organization_id"], unique=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_until", UTC(timezone=True), nullable=True))
        batch.add_column(sa.Column("expires_at", UTC(timezone=True), nullable=True))
        batch.add_column(sa.Column("latency_ms", sa.Float(), nullable=True))
    op.create_index("ix_deliveries_endpoint", "deliveries", ["endpoint_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_endpoint", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("latency_ms")
        batch.drop_column("expires_at")
        batch.drop_column("claimed_until")
    op.drop_index("ix_endpoints_organization", table_name="endpoints")
    op.drop_table("endpoints")
