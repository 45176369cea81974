"""A municipality's registered districts and designated evacuation sites.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = alertcommons.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "jp_districts",
        sa.Column("municipality", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kana", sa.String(length=100), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "name"),
    )
    op.create_table(
        "jp_designated_sites",
        sa.Column("municipality", sa.String(length=5), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kana", sa.String(length=200), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("hazards", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "kind", "site_id"),
    )


def downgrade() -> None:
    op.drop_table("jp_designated_sites")
    op.drop_table("jp_districts")
