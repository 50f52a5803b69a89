"""captures: the WARC files a document's signals were read from (content-addressed by
SHA-256, one row per file) and which documents' versions each one serves

Revision ID: 0012
Revises: 0010 (to be rechained onto 0011 at merge)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_captures"),
        sa.UniqueConstraint("sha256", name="uq_captures_sha256"),
    )
    op.create_table(
        "document_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_document_captures_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name="fk_document_captures_capture_id_captures",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_document_captures"),
        sa.UniqueConstraint(
            "document_id", "capture_id", name="uq_document_captures_document_id_capture_id"
        ),
    )
    op.create_index("ix_document_captures_capture_id", "document_captures", ["capture_id"])


def downgrade() -> None:
    op.drop_index("ix_document_captures_capture_id", table_name="document_captures")
    op.drop_table("document_captures")
    op.drop_table("captures")
