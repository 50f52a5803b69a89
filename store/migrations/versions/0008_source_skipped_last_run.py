"""source health: how many items the source's last poll skipped (refused or failed pages and
attachments, items that could not be stored)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both engines (SQLite >= 3.35 drops columns in place): a batch
# operation would rebuild ``sources``, which SQLite refuses while signal_view (0006) uses it.


def upgrade() -> None:
    op.add_column(
        "sources", sa.Column("skipped_last_run", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    op.drop_column("sources", "skipped_last_run")
