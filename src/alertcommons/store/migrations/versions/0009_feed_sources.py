"""The health of each source the hub reads, kept across restarts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = alertcommons.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "feed_sources",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("health", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("feed_sources")
