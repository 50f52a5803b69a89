"""instruments: a draft followed from concept to force — instruments, their titles per
language, the documents linked to them (how and why, reversibly) and their stage events
(stable ids for the outbox; contradicting evidence kept)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("number", sa.String(64), nullable=True),
        sa.Column("number_key", sa.String(64), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("portal", sa.String(128), nullable=True),
        sa.Column("portal_id", sa.String(256), nullable=True),
        sa.Column("issuing_body", sa.Text(), nullable=True),
        sa.Column("themes", sa.String(512), server_default="", nullable=False),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("stage_date", sa.Date(), nullable=True),
        sa.Column("consultation_start", sa.Date(), nullable=True),
        sa.Column("consultation_end", sa.Date(), nullable=True),
        sa.Column("first_seen", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_into"],
            ["instruments.id"],
            name="fk_instruments_merged_into_instruments",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_instruments"),
        sa.UniqueConstraint("portal", "portal_id", name="uq_instruments_portal_portal_id"),
    )
    op.create_index("ix_instruments_jurisdiction_stage", "instruments", ["jurisdiction", "stage"])
    op.create_index("ix_instruments_number_key", "instruments", ["number_key"])
    op.create_index("ix_instruments_consultation_end", "instruments", ["consultation_end"])
    op.create_index("ix_instruments_merged_into", "instruments", ["merged_into"])

    op.create_table(
        "instrument_titles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_key", sa.String(512), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("seen_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name="fk_instrument_titles_instrument_id_instruments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_instrument_titles_document_id_documents",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_instrument_titles"),
        sa.UniqueConstraint(
            "instrument_id", "lang", "title_key",
            name="uq_instrument_titles_instrument_id_lang_title_key",
        ),
    )  # fmt: skip
    op.create_index("ix_instrument_titles_title_key", "instrument_titles", ["title_key"])

    op.create_table(
        "instrument_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("linked_at", _TS, nullable=False),
        sa.Column("unlinked_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name="fk_instrument_documents_instrument_id_instruments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_instrument_documents_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_instrument_documents"),
        sa.UniqueConstraint(
            "instrument_id", "document_id",
            name="uq_instrument_documents_instrument_id_document_id",
        ),
    )  # fmt: skip
    op.create_index("ix_instrument_documents_document_id", "instrument_documents", ["document_id"])

    op.create_table(
        "instrument_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("stage_date", sa.Date(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("advanced", sa.Boolean(), nullable=False),
        sa.Column("contradicts", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name="fk_instrument_events_instrument_id_instruments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_instrument_events_document_id_documents",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_instrument_events"),
        sa.UniqueConstraint(
            "instrument_id", "stage", "document_id", "source",
            name="uq_instrument_events_instrument_id_stage_document_id_source",
        ),
    )  # fmt: skip
    op.create_index("ix_instrument_events_recorded_at", "instrument_events", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_instrument_events_recorded_at", table_name="instrument_events")
    op.drop_table("instrument_events")
    op.drop_index("ix_instrument_documents_document_id", table_name="instrument_documents")
    op.drop_table("instrument_documents")
    op.drop_index("ix_instrument_titles_title_key", table_name="instrument_titles")
    op.drop_table("instrument_titles")
    for name in (
        "ix_instruments_merged_into",
        "ix_instruments_consultation_end",
        "ix_instruments_number_key",
        "ix_instruments_jurisdiction_stage",
    ):
        op.drop_index(name, table_name="instruments")
    op.drop_table("instruments")
