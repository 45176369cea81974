"""Receiving sites with several routes: the sites, each endpoint's site and order, each
delivery's site and rank.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = alertcommons.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "delivery_sites",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ack_timeout_s", sa.Float(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "name", name="uq_delivery_sites_org_name"),
    )
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("site_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("route_order", sa.Integer(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("site_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("route", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("route")
        batch.drop_column("site_id")
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("route_order")
        batch.drop_column("site_id")
    op.drop_table("delivery_sites")
