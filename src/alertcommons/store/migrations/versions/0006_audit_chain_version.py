"""Mark each audit record with the way its hash was made; remember which keys are in use.

Records written before this revision keep version 0 (plain SHA-256 chain) and still verify
as they are: rehashing them with the new key would mean trusting whatever the database holds
today. From the first start with the audit key, new records are version 1 (HMAC-SHA256 with
a key outside the database), and the first signed checkpoint fixes the last version-0 record
(``keyed_after``), so nothing after it can be passed off as an old unkeyed record.

``store_keys`` holds a fingerprint of the audit and secrets keys the database is written
with, so a node started with other key files stops instead of forking the chain.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import alertcommons.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(
            sa.Column("chain_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "store_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", alertcommons.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("store_keys")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("chain_version")
