"""facets at scale: each signal keeps its source, its mentioned countries as a key and the
number of its combination of category, language, source and mentions (``signals.source_id``,
``mentions``, ``combo_id``); ``signal_combos`` counts signals per combination and
``signal_weekly`` per week, category and combination, both kept by triggers on ``signals``
on both engines

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FIXED = (
    "signals: category, lang, source_id and mentions are fixed once stored; "
    "delete the signal and insert a new one"
)
# The day is cut from the stored text first: SQLite's date() rounds to the millisecond, so
# 23:59:59.9995 on a Sunday would land in the next week.
SQLITE_WEEK = "date(substr({r}.detected_at, 1, 10), '-6 days', 'weekday 1')"
PG_WEEK = "date_trunc('week', {r}.detected_at AT TIME ZONE 'UTC')::date"

BACKFILL = (
    """INSERT INTO signal_combos (category, lang, source_id, mentions, n)
SELECT category, coalesce(lang, ''), source_id, mentions, count(*) FROM signals
GROUP BY category, coalesce(lang, ''), source_id, mentions""",
    """UPDATE signals SET combo_id = (SELECT c.id FROM signal_combos c
WHERE c.category = signals.category AND c.lang = coalesce(signals.lang, '')
  AND c.source_id = signals.source_id AND c.mentions = signals.mentions)""",
    """INSERT INTO signal_weekly (week, combo_id, category, source_id, mentions, n)
SELECT {week}, combo_id, min(category), min(source_id), min(mentions), count(*) FROM signals
GROUP BY {week}, combo_id""",
)

# Every insert, update and delete of a signal moves its counts, in the same transaction.
# The columns that make its combination are fixed once inserted.
SQLITE_TRIGGERS = (
    """
CREATE TRIGGER signals_counts_insert AFTER INSERT ON signals BEGIN
  UPDATE signal_combos SET n = n + 1 WHERE id = NEW.combo_id;
  INSERT INTO signal_weekly (week, combo_id, category, source_id, mentions, n)
  VALUES (date(substr(NEW.detected_at, 1, 10), '-6 days', 'weekday 1'), NEW.combo_id,
          NEW.category, NEW.source_id, NEW.mentions, 1)
  ON CONFLICT (week, combo_id) DO UPDATE SET n = n + 1;
END""",
    """
CREATE TRIGGER signals_counts_delete AFTER DELETE ON signals BEGIN
  UPDATE signal_combos SET n = n - 1 WHERE id = OLD.combo_id;
  UPDATE signal_weekly SET n = n - 1
  WHERE week = date(substr(OLD.detected_at, 1, 10), '-6 days', 'weekday 1')
    AND combo_id = OLD.combo_id;
END""",
    """
CREATE TRIGGER signals_counts_update AFTER UPDATE OF detected_at ON signals BEGIN
  UPDATE signal_weekly SET n = n - 1
  WHERE week = date(substr(OLD.detected_at, 1, 10), '-6 days', 'weekday 1')
    AND combo_id = OLD.combo_id;
  INSERT INTO signal_weekly (week, combo_id, category, source_id, mentions, n)
  VALUES (date(substr(NEW.detected_at, 1, 10), '-6 days', 'weekday 1'), NEW.combo_id,
          NEW.category, NEW.source_id, NEW.mentions, 1)
  ON CONFLICT (week, combo_id) DO UPDATE SET n = n + 1;
END""",
    """
CREATE TRIGGER signals_combo_fixed
BEFORE UPDATE OF category, lang, source_id, mentions, combo_id ON signals
WHEN NEW.category IS NOT OLD.category OR coalesce(NEW.lang, '') IS NOT coalesce(OLD.lang, '')
  OR NEW.source_id IS NOT OLD.source_id OR NEW.mentions IS NOT OLD.mentions
  OR NEW.combo_id IS NOT OLD.combo_id
BEGIN
  SELECT RAISE(ABORT, '{FIXED}');
END""",
)

PG_FUNCTION = """
CREATE FUNCTION signals_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.category, coalesce(NEW.lang, ''), NEW.source_id, NEW.mentions,
      NEW.combo_id) IS DISTINCT FROM (OLD.category, coalesce(OLD.lang, ''), OLD.source_id,
      OLD.mentions, OLD.combo_id) THEN
    RAISE EXCEPTION '{FIXED}';
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE signal_weekly SET n = n - 1
    WHERE week = date_trunc('week', OLD.detected_at AT TIME ZONE 'UTC')::date
      AND combo_id = OLD.combo_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO signal_weekly (week, combo_id, category, source_id, mentions, n)
    VALUES (date_trunc('week', NEW.detected_at AT TIME ZONE 'UTC')::date, NEW.combo_id,
            NEW.category, NEW.source_id, NEW.mentions, 1)
    ON CONFLICT (week, combo_id) DO UPDATE SET n = signal_weekly.n + 1;
  END IF;
  IF TG_OP = 'INSERT' THEN
    UPDATE signal_combos SET n = n + 1 WHERE id = NEW.combo_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE signal_combos SET n = n - 1 WHERE id = OLD.combo_id;
  END IF;
  RETURN NULL;
END $$"""

PG_TRIGGER = """
CREATE TRIGGER signals_counts AFTER INSERT OR DELETE
OR UPDATE OF detected_at, category, lang, source_id, mentions, combo_id ON signals
FOR EACH ROW EXECUTE FUNCTION signals_counts()"""

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


def _mentions(raw: object) -> str:
    values: Any = json.loads(raw) if isinstance(raw, str) else raw
    unique = sorted({v for v in values or () if isinstance(v, str)})
    return f",{','.join(unique)}," if unique else ""


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.execute("DROP VIEW IF EXISTS signal_view")  # SQLite rebuilds the table below
    op.create_table(
        "signal_combos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.String(256), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signal_combos"),
        sa.UniqueConstraint(
            "category",
            "lang",
            "source_id",
            "mentions",
            name="uq_signal_combos_category_lang_source_id_mentions",
        ),
    )
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("mentions", sa.String(256), server_default="", nullable=False))
        batch.add_column(sa.Column("combo_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE signals SET source_id = "
        "(SELECT documents.source_id FROM documents WHERE documents.id = signals.document_id)"
    )
    rows = bind.execute(sa.text("SELECT id, countries FROM signals")).all()
    changed = [{"m": _mentions(c), "i": i} for i, c in rows if _mentions(c)]
    if changed:
        bind.execute(sa.text("UPDATE signals SET mentions = :m WHERE id = :i"), changed)
    op.create_table(
        "signal_weekly",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("combo_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.String(256), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "combo_id", name="pk_signal_weekly"),
        sqlite_with_rowid=False,
    )
    # Each in the order of a GROUP BY in store/facets.py, so counts stream without a sort.
    op.create_index("ix_signal_weekly_combo", "signal_weekly", ["combo_id", "week", "n"])
    op.create_index(
        "ix_signal_weekly_category", "signal_weekly", ["week", "category", "combo_id", "n"]
    )
    op.create_index(
        "ix_signal_weekly_country",
        "signal_weekly",
        ["week", "source_id", "mentions", "combo_id", "n"],
    )
    week = (SQLITE_WEEK if sqlite else PG_WEEK).format(r="signals")
    for statement in BACKFILL:
        op.execute(statement.format(week=week))
    with op.batch_alter_table("signals") as batch:
        batch.alter_column("source_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("combo_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_signals_source_id_sources", "sources", ["source_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_foreign_key(
            "fk_signals_combo_id_signal_combos", "signal_combos", ["combo_id"], ["id"]
        )
    op.create_index("ix_signals_detected_combo", "signals", ["detected_at", "combo_id", "score"])
    op.drop_index("ix_signals_document_id", table_name="signals")
    op.create_index(
        "ix_signals_document_combo",
        "signals",
        ["document_id", "score", "combo_id", "detected_at", "id"],
    )
    op.execute(VIEW)
    if sqlite:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger.replace("{FIXED}", FIXED))
    else:
        op.execute(PG_FUNCTION.replace("{FIXED}", FIXED))
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("counts_insert", "counts_delete", "counts_update", "combo_fixed"):
            op.execute(f"DROP TRIGGER IF EXISTS signals_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS signals_counts ON signals")
        op.execute("DROP FUNCTION IF EXISTS signals_counts()")
    op.execute("DROP VIEW IF EXISTS signal_view")
    op.drop_index("ix_signals_detected_combo", table_name="signals")
    op.drop_index("ix_signals_document_combo", table_name="signals")
    op.create_index("ix_signals_document_id", "signals", ["document_id"])
    with op.batch_alter_table("signals") as batch:
        batch.drop_constraint("fk_signals_combo_id_signal_combos", type_="foreignkey")
        batch.drop_constraint("fk_signals_source_id_sources", type_="foreignkey")
        batch.drop_column("combo_id")
        batch.drop_column("mentions")
        batch.drop_column("source_id")
    op.drop_table("signal_weekly")
    op.drop_table("signal_combos")
    op.execute(VIEW)
