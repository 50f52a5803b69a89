"""indexes for the analysts' sorts: signals by score and by detection time

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signals_score_id", "signals", ["score", "id"])
    op.create_index("ix_signals_detected_id", "signals", ["detected_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_signals_detected_id", table_name="signals")
    op.drop_index("ix_signals_score_id", table_name="signals")
