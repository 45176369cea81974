"""Every signing certificate the hub has used.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC = alertcommons.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "hub_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("first_used_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("hub_keys")
