"""delivery outbox: one row per (subscription, channel, signal | digest period), with the
rendered message, its target and the retry schedule

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))
        batch_op.drop_constraint("uq_deliveries_subscription_period", type_="unique")
        batch_op.drop_constraint("uq_deliveries_subscription_signal_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_subscription_channel_period", ["subscription", "channel", "period"]
        )
        batch_op.create_unique_constraint(
            "uq_deliveries_subscription_channel_signal_id",
            ["subscription", "channel", "signal_id"],
        )
        batch_op.create_index("ix_deliveries_status_next", ["status", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_next")
        batch_op.drop_constraint("uq_deliveries_subscription_channel_signal_id", type_="unique")
        batch_op.drop_constraint("uq_deliveries_subscription_channel_period", type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_subscription_signal_id", ["subscription", "signal_id"]
        )
        batch_op.create_unique_constraint(
            "uq_deliveries_subscription_period", ["subscription", "period"]
        )
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("payload")
        batch_op.drop_column("target")
