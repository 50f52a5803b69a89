"""`regwatch import`: documents from JSON Lines through the same ingest path as crawled ones."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from sqlalchemy import Engine, select

from regwatch.config import SourceConfig
from regwatch.crawlers.imports import ImportItem
from regwatch.nlp import Flagger
from regwatch.pipeline.collect import RunSummary, fit_urls, source_spec
from regwatch.pipeline.ingest import BATCH, ingest
from regwatch.pipeline.runs import finish_run, open_run
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.sources import SourceSpec, sync_sources

log = logging.getLogger("regwatch.pipeline")


def import_documents(
    engine: Engine,
    flagger: Flagger,
    items: Iterable[tuple[int, ImportItem | str]],
    configured: Iterable[SourceConfig] = (),
    notes: list[str] | None = None,
) -> RunSummary:
    """Ingest documents read by :func:`regwatch.crawlers.imports.read_documents` — the same dedupe,
    flag and store as crawled ones — under their named source: a configured one, one already
    in the database, or a new row of type "import". A bad line or document is reported in
    ``skipped`` and the rest go on; the run is recorded as kind "import".

    A source has one country. A line whose own ``country`` differs from its source's goes to
    the source ``<source>-<country>`` (made for it), and ``notes`` says so once per pair."""
    known = {s.name: s for s in configured}
    with db.session_scope(engine) as session:
        countries = dict(session.execute(select(m.Source.name, m.Source.country)).all())
    countries.update({name: src.country for name, src in known.items()})
    moved: set[tuple[str, str]] = set()
    summary = RunSummary()
    recorded: set[str] = set()  # sources whose row is there
    run_id, holder, _ = open_run(engine, "import")

    def store(batch: list[ImportItem]) -> None:
        """Documents of one source, in order (the source's row first)."""
        source = batch[0].source
        docs, too_long = fit_urls([item.document for item in batch])
        summary.skipped.extend(too_long)
        try:
            if source not in recorded:
                _import_source(engine, batch[0], known.get(source))
                recorded.add(source)
        except Exception as exc:  # a source that cannot be recorded: its documents are skipped
            log.warning("import: source %s: %s", source, exc)
            summary.skipped.extend(f"{d.url}: not stored ({exc})" for d in docs)
            summary.not_stored += len(docs)
            return
        done = 0
        try:
            for doc, result in ingest(engine, flagger, docs):
                done += 1
                if isinstance(result, Exception):  # one bad document never stops the others
                    log.warning("import: could not ingest %s: %s", doc.url, result)
                    summary.skipped.append(f"{doc.url}: not stored ({result})")
                    summary.not_stored += 1
                    continue
                summary.outcomes[result.outcome] += 1
                summary.signals_new += result.signals_new
        except Exception as exc:  # the store failed as a whole (a lock): the next batch goes on
            log.warning("import: a batch of %d documents failed: %s", len(docs) - done, exc)
            summary.skipped.extend(f"{d.url}: not stored ({exc})" for d in docs[done:])
            summary.not_stored += len(docs) - done

    pending: list[ImportItem] = []
    error: BaseException | None = None
    try:
        for n, item in items:
            if isinstance(item, str):
                summary.skipped.append(item)
                continue
            summary.items_seen += 1
            own = countries.setdefault(item.source, item.country or "regional")
            line_country = item.country
            if line_country and line_country != own:
                item = _moved(item, f"{item.source}-{line_country}"[:64])
                if (item.source, own) not in moved and notes is not None:
                    notes.append(
                        f"line {n}: country {line_country!r} differs from its source's "
                        f"({own!r}): stored under source {item.source!r}"
                    )
                moved.add((item.source, own))
                countries.setdefault(item.source, line_country)
            if pending and (pending[0].source != item.source or len(pending) >= BATCH):
                store(pending)
                pending = []
            pending.append(item)
        if pending:
            store(pending)
    except BaseException as exc:
        error = exc
        raise
    finally:
        finish_run(engine, run_id, holder, summary, error)
    return summary


def _moved(item: ImportItem, source: str) -> ImportItem:
    doc = dataclasses.replace(item.document, source=source)
    return dataclasses.replace(item, source=source, document=doc)


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
