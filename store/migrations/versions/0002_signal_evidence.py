"""signal evidence: countries, bodies and instrument attributes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("countries", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("bodies", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("attributes", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("attributes")
        batch_op.drop_column("bodies")
        batch_op.drop_column("countries")
