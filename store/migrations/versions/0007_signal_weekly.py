"""facets at scale: each signal keeps its source and its mentioned countries as a key
(``signals.source_id``, ``signals.mentions``), a covering index for scans over a span of
time, and ``signal_weekly`` — counts per week, category, source, language and mentions, kept
by triggers on ``signals`` on both engines

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

KEY = ("week", "category", "source_id", "lang", "mentions")
FACET_ORDER = ["category", "lang", "source_id", "mentions"]
COUNTRY_ORDER = ["week", "source_id", "mentions", "category", "lang", "n"]

SQLITE_WEEK = "date({r}.detected_at, '-6 days', 'weekday 1')"
PG_WEEK = "date_trunc('week', {r}.detected_at AT TIME ZONE 'UTC')::date"

BACKFILL = """
INSERT INTO signal_weekly (week, category, source_id, lang, mentions, n)
SELECT {week}, category, source_id, coalesce(lang, ''), mentions, count(*) FROM signals
GROUP BY {week}, category, source_id, coalesce(lang, ''), mentions"""

SQLITE_TRIGGERS = (
    """
CREATE TRIGGER signals_weekly_insert AFTER INSERT ON signals BEGIN
  INSERT INTO signal_weekly (week, category, source_id, lang, mentions, n)
  VALUES (date(NEW.detected_at, '-6 days', 'weekday 1'), NEW.category, NEW.source_id,
          coalesce(NEW.lang, ''), NEW.mentions, 1)
  ON CONFLICT (week, category, source_id, lang, mentions) DO UPDATE SET n = n + 1;
END""",
    """
CREATE TRIGGER signals_weekly_delete AFTER DELETE ON signals BEGIN
  UPDATE signal_weekly SET n = n - 1
  WHERE week = date(OLD.detected_at, '-6 days', 'weekday 1') AND category = OLD.category
    AND source_id = OLD.source_id AND lang = coalesce(OLD.lang, '') AND mentions = OLD.mentions;
END""",
    """
CREATE TRIGGER signals_weekly_update
AFTER UPDATE OF detected_at, category, source_id, lang, mentions ON signals BEGIN
  UPDATE signal_weekly SET n = n - 1
  WHERE week = date(OLD.detected_at, '-6 days', 'weekday 1') AND category = OLD.category
    AND source_id = OLD.source_id AND lang = coalesce(OLD.lang, '') AND mentions = OLD.mentions;
  INSERT INTO signal_weekly (week, category, source_id, lang, mentions, n)
  VALUES (date(NEW.detected_at, '-6 days', 'weekday 1'), NEW.category, NEW.source_id,
          coalesce(NEW.lang, ''), NEW.mentions, 1)
  ON CONFLICT (week, category, source_id, lang, mentions) DO UPDATE SET n = n + 1;
END""",
)

PG_FUNCTION = """
CREATE FUNCTION signal_weekly_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE signal_weekly SET n = n - 1
    WHERE week = date_trunc('week', OLD.detected_at AT TIME ZONE 'UTC')::date
      AND category = OLD.category AND source_id = OLD.source_id
      AND lang = coalesce(OLD.lang, '') AND mentions = OLD.mentions;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO signal_weekly (week, category, source_id, lang, mentions, n)
    VALUES (date_trunc('week', NEW.detected_at AT TIME ZONE 'UTC')::date, NEW.category,
            NEW.source_id, coalesce(NEW.lang, ''), NEW.mentions, 1)
    ON CONFLICT (week, category, source_id, lang, mentions)
    DO UPDATE SET n = signal_weekly.n + 1;
  END IF;
  RETURN NULL;
END $$"""

PG_TRIGGER = """
CREATE TRIGGER signals_weekly AFTER INSERT OR DELETE
OR UPDATE OF detected_at, category, source_id, lang, mentions ON signals
FOR EACH ROW EXECUTE FUNCTION signal_weekly_count()"""

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
    with op.batch_alter_table("signals") as batch:
        batch.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("mentions", sa.String(256), server_default="", nullable=False))
    op.execute(
        "UPDATE signals SET source_id = "
        "(SELECT documents.source_id FROM documents WHERE documents.id = signals.document_id)"
    )
    rows = bind.execute(sa.text("SELECT id, countries FROM signals")).all()
    changed = [{"m": _mentions(c), "i": i} for i, c in rows if _mentions(c)]
    if changed:
        bind.execute(sa.text("UPDATE signals SET mentions = :m WHERE id = :i"), changed)
    with op.batch_alter_table("signals") as batch:
        batch.alter_column("source_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_signals_source_id_sources", "sources", ["source_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index(
        "ix_signals_detected_facets",
        "signals",
        ["detected_at", "category", "source_id", "lang", "mentions", "score"],
    )
    op.execute(VIEW)
    op.create_table(
        "signal_weekly",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("mentions", sa.String(256), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_signal_weekly"),
        sqlite_with_rowid=False,
    )
    # Each in the order of a GROUP BY in store/facets.py, so the counts stream in order
    # instead of going through a sort: facets, then timelines by country.
    op.create_index("ix_signal_weekly_facets", "signal_weekly", [*FACET_ORDER, "week", "n"])
    op.create_index("ix_signal_weekly_country", "signal_weekly", COUNTRY_ORDER)
    op.execute(BACKFILL.format(week=(SQLITE_WEEK if sqlite else PG_WEEK).format(r="signals")))
    if sqlite:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS signals_weekly_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS signals_weekly ON signals")
        op.execute("DROP FUNCTION IF EXISTS signal_weekly_count()")
    op.drop_table("signal_weekly")
    op.execute("DROP VIEW IF EXISTS signal_view")
    op.drop_index("ix_signals_detected_facets", table_name="signals")
    with op.batch_alter_table("signals") as batch:
        batch.drop_constraint("fk_signals_source_id_sources", type_="foreignkey")
        batch.drop_column("mentions")
        batch.drop_column("source_id")
    op.execute(VIEW)
