"""signal_view for analysts (a signal with its document and source, stable column names),
and indexes for the analysts' sorts: signals by score and by detection time

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


VIEW = """
CREATE VIEW signal_view AS
SELECT s.id AS signal_id, s.category, s.score, s.reason, s.rule, s.text AS "match",
       s.sentence, s.field, s.start, s."end", s.lang AS language, s.countries, s.bodies,
       s.attributes, s.detected_at, d.id AS document_id, d.title, d.url, d.published_at,
       src.name AS source, src.country AS source_country, src.tier
FROM signals s
JOIN documents d ON d.id = s.document_id
JOIN sources src ON src.id = d.source_id
"""


def upgrade() -> None:
    op.create_index("ix_signals_score_id", "signals", ["score", "id"])
    op.create_index("ix_signals_detected_id", "signals", ["detected_at", "id"])
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS signal_view")
    op.drop_index("ix_signals_detected_id", table_name="signals")
    op.drop_index("ix_signals_score_id", table_name="signals")
