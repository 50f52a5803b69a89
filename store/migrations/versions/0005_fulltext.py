"""full-text index over documents (FTS5 on SQLite, tsvector + GIN on PostgreSQL), filled
with every stored document's title and current text

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from regwatch.store.fulltext import create_index, drop_index, index_document

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    from regwatch.nlp.index import search_terms

    conn = op.get_bind()
    create_index(conn)
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT d.id, v.title, v.text FROM documents d JOIN document_versions v "
                "ON v.document_id = d.id AND v.version = d.version "
                "WHERE d.id > :last ORDER BY d.id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        for doc_id, title, body in rows:
            index_document(conn, doc_id, search_terms(f"{title}\n{body}"))
        last = rows[-1][0]


def downgrade() -> None:
    drop_index(op.get_bind())
