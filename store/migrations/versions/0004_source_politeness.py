"""source politeness and back-off: validators for conditional GET, when the source may be
polled again (server freshness, Retry-After, exponential back-off)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("etag", sa.Text()))
        batch_op.add_column(sa.Column("last_modified", sa.String(64)))
        batch_op.add_column(sa.Column("fresh_until", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("next_retry_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("next_retry_at")
        batch_op.drop_column("fresh_until")
        batch_op.drop_column("last_modified")
        batch_op.drop_column("etag")
