"""identity and versions: a document keeps its item's guid (unique per source); the signals of
versions no longer current move to ``signal_history`` (kept for the document page, counted
nowhere), which fixes stores where an edited document counted its old signals beside the new;
source health says what the last poll noticed though it worked (``last_warning``)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The columns signals and signal_history share (store.models.SIGNAL_COLUMNS, as of this
# revision: a migration never imports the models it may outlive).
COLUMNS = (
    'document_id, version_id, source_id, category, rule, field, text, start, "end", sentence, '
    "score, reason, lang, countries, mentions, bodies, attributes, detected_at, combo_id"
)
# Signals of a version that is not its document's current one.
OLD = """SELECT s.id FROM signals s
JOIN document_versions v ON v.id = s.version_id
JOIN documents d ON d.id = s.document_id
WHERE v.version <> d.version"""
TO_HISTORY = (
    f"INSERT INTO signal_history (signal_id, {COLUMNS}, superseded_at) "  # noqa: S608
    f"SELECT id, {COLUMNS}, CURRENT_TIMESTAMP FROM signals WHERE id IN ({OLD}) ORDER BY id"
)
# Each (version, rule, field, offset) once: history may hold a version's signals more than
# once (archived again after the version came back), and the version may be current.
FROM_HISTORY = (
    f"INSERT INTO signals ({COLUMNS}) "  # noqa: S608
    f"SELECT {COLUMNS} FROM signal_history h "
    "WHERE h.id = (SELECT min(o.id) FROM signal_history o WHERE o.version_id = h.version_id "
    "AND o.rule = h.rule AND o.field = h.field AND o.start = h.start) "
    "AND NOT EXISTS (SELECT 1 FROM signals s WHERE s.version_id = h.version_id "
    "AND s.rule = h.rule AND s.field = h.field AND s.start = h.start) "
    "ORDER BY h.combo_id, h.signal_id"
)


def upgrade() -> None:
    # Plain ALTER TABLE (as 0008): a batch operation would rebuild tables views depend on.
    op.add_column("sources", sa.Column("last_warning", sa.Text(), nullable=True))
    op.add_column("documents", sa.Column("guid", sa.String(1024), nullable=True))
    op.create_index("ix_documents_source_guid", "documents", ["source_id", "guid"], unique=True)
    op.create_table(
        "signal_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=True),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("mentions", sa.String(256), server_default="", nullable=False),
        sa.Column("bodies", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("combo_id", sa.Integer(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_signal_history_document_id_documents",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name="fk_signal_history_version_id_document_versions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_signal_history_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signal_history"),
    )
    op.create_index("ix_signal_history_document_id", "signal_history", ["document_id"])
    # Stores that already hold an edited document's old signals beside its new ones: the old
    # ones become history; the triggers on signals take them out of every count.
    _repoint_deliveries(op.get_bind())
    op.execute(TO_HISTORY)
    op.execute(f"DELETE FROM signals WHERE id IN ({OLD})")  # noqa: S608


# Deliveries of an old version's signal, and the current version's signal of the same finding.
DELIVERED = f"""SELECT dl.id, dl.subscription, dl.channel, min(cur.id) FROM deliveries dl
JOIN signals old ON old.id = dl.signal_id
JOIN documents d ON d.id = old.document_id
JOIN document_versions cv ON cv.document_id = d.id AND cv.version = d.version
JOIN signals cur ON cur.version_id = cv.id AND cur.rule = old.rule AND cur.field = old.field
  AND cur.text = old.text
WHERE old.id IN ({OLD})
GROUP BY dl.id, dl.subscription, dl.channel
ORDER BY dl.id"""  # noqa: S608


def _repoint_deliveries(bind: sa.Connection) -> None:
    """An alert sent for a finding the current version still has stays on record (on that
    version's signal): deleting the old signal would delete it, and the story would be
    alerted again."""
    taken = {
        (sub, channel, signal)
        for sub, channel, signal in bind.execute(
            sa.text("SELECT subscription, channel, signal_id FROM deliveries")
        )
        if signal is not None
    }
    moves = []
    for delivery, sub, channel, current in bind.execute(sa.text(DELIVERED)):
        if (sub, channel, current) not in taken:
            taken.add((sub, channel, current))
            moves.append({"d": delivery, "s": current})
    if moves:
        bind.execute(sa.text("UPDATE deliveries SET signal_id = :s WHERE id = :d"), moves)


# Since 0009 a finding an edit keeps stays on the version it was found in; before, each
# version had its own copy: the current version gets one (as 0009's upgrade expects).
CURRENT_COPIES = """INSERT INTO signals (document_id, version_id, source_id, category, rule, field,
  text, start, "end", sentence, score, reason, lang, countries, mentions, bodies, attributes,
  detected_at, combo_id)
SELECT s.document_id, cv.id, s.source_id, s.category, s.rule, s.field, s.text, s.start,
  s."end", s.sentence, s.score, s.reason, s.lang, s.countries, s.mentions, s.bodies,
  s.attributes, s.detected_at, s.combo_id
FROM signals s
JOIN documents d ON d.id = s.document_id
JOIN document_versions v ON v.id = s.version_id
JOIN document_versions cv ON cv.document_id = d.id AND cv.version = d.version
WHERE v.version <> d.version AND NOT EXISTS (SELECT 1 FROM signals t WHERE t.version_id = cv.id
  AND t.rule = s.rule AND t.field = s.field AND (t.text = s.text OR t.start = s.start))
ORDER BY s.combo_id, s.id"""


def downgrade() -> None:
    # Before 0009 every version had its own copy of each of its findings in signals, and
    # nothing was history: the findings go back there.
    op.execute(CURRENT_COPIES)
    op.execute(FROM_HISTORY)
    op.drop_index("ix_signal_history_document_id", table_name="signal_history")
    op.drop_table("signal_history")
    op.drop_index("ix_documents_source_guid", table_name="documents")
    op.drop_column("documents", "guid")
    op.drop_column("sources", "last_warning")
