"""`regwatch import`: documents from JSON Lines through the same ingest path as crawled ones."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Engine, select

from config import SourceConfig
from crawlers.imports import ImportItem
from nlp import Flagger
from pipeline.collect import RunSummary, close_run, source_spec
from pipeline.ingest import ingest
from store import db
from store import models as m
from store.queries import (
    SourceSpec,
    sync_sources,
)

log = logging.getLogger("regwatch.pipeline")


def import_documents(
    engine: Engine,
    flagger: Flagger,
    items: Iterable[tuple[int, ImportItem | str]],
    configured: Iterable[SourceConfig] = (),
) -> RunSummary:
    """Ingest documents read by :func:`crawlers.imports.read_documents` — the same dedupe,
    flag and store as crawled ones — under their named source: a configured one, one already
    in the database, or a new row of type "import". A bad line or document is reported in
    ``skipped`` and the rest go on; the run is recorded as kind "import"."""
    known = {s.name: s for s in configured}
    summary = RunSummary()
    ids: dict[str, int] = {}
    with db.session_scope(engine) as session:
        run = m.Run(kind="import")
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        for _n, item in items:
            if isinstance(item, str):
                summary.skipped.append(item)
                continue
            summary.items_seen += 1
            try:
                if item.source not in ids:
                    ids[item.source] = _import_source(engine, item, known.get(item.source))
                result = ingest(engine, flagger, item.document, ids[item.source])
            except Exception as exc:  # one bad document never stops the others
                log.exception("import: could not ingest %s", item.document.url)
                summary.skipped.append(f"{item.document.url}: not stored ({exc})")
                continue
            summary.outcomes[result.outcome] += 1
            summary.signals_new += result.signals_new
    finally:
        with db.session_scope(engine) as session:
            close_run(session.get_one(m.Run, run_id), summary)
    return summary


def _import_source(engine: Engine, item: ImportItem, configured: SourceConfig | None) -> int:
    with db.session_scope(engine) as session:
        if configured is not None:
            return sync_sources(session, [source_spec(configured)])[configured.name]
        existing = session.scalar(select(m.Source.id).where(m.Source.name == item.source))
        if existing is not None:
            return existing
        lang = item.document.lang
        spec = SourceSpec(
            item.source,
            f"import:{item.source}",
            "import",
            item.country or "regional",
            (lang,) if lang else (),
            "analysis",
        )
        return sync_sources(session, [spec])[item.source]
