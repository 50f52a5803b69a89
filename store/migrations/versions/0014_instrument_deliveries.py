"""instrument deliveries: the outbox carries stage-change alerts, keyed on (subscription,
channel, instrument event), and consultation reminders, keyed on (subscription, channel,
instrument, deadline) — so each goes out once, and a moved deadline gets a new reminder

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("instrument_event_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("instrument_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            "fk_deliveries_instrument_event_id_instrument_events",
            "instrument_events",
            ["instrument_event_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_deliveries_instrument_id_instruments",
            "instruments",
            ["instrument_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            "uq_deliveries_subscription_channel_instrument_event_id",
            ["subscription", "channel", "instrument_event_id"],
        )
        batch_op.create_unique_constraint(
            "uq_deliveries_subscription_channel_instrument_id_deadline",
            ["subscription", "channel", "instrument_id", "deadline"],
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_deliveries_subscription_channel_instrument_id_deadline", type_="unique"
        )
        batch_op.drop_constraint(
            "uq_deliveries_subscription_channel_instrument_event_id", type_="unique"
        )
        batch_op.drop_constraint("fk_deliveries_instrument_id_instruments", type_="foreignkey")
        batch_op.drop_constraint(
            "fk_deliveries_instrument_event_id_instrument_events", type_="foreignkey"
        )
        batch_op.drop_column("deadline")
        batch_op.drop_column("instrument_id")
        batch_op.drop_column("instrument_event_id")
