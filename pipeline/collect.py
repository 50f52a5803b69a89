"""Poll configured sources, ingest what they yield, record each source's health and the run's
counts. One bad source or item never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, collect
from regwatch.crawlers.politeness import Validators, backoff_seconds
from regwatch.errors import FetchError, RegwatchError
from regwatch.nlp import Flagger
from regwatch.pipeline.dedupe import Outcome
from regwatch.pipeline.ingest import ingest
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.queries import known_urls
from regwatch.store.sources import (
    PollState,
    SourceSpec,
    poll_states,
    record_failure,
    record_success,
    sync_sources,
)

log = logging.getLogger("regwatch.pipeline")


@dataclass
class RunSummary:
    sources_ok: int = 0
    sources_failed: int = 0
    items_seen: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    signals_new: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # source name -> error
    skipped: list[str] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)  # answered 304: nothing parsed
    not_due: dict[str, datetime] = field(default_factory=dict)  # name -> polled again after

    @property
    def stored_anything(self) -> bool:
        return bool(
            self.outcomes[Outcome.NEW] or self.outcomes[Outcome.UPDATED] or self.signals_new
        )

    # The run in words, for the terminal and the log; each caller names the run around them
    # ("run --once: 3 sources due — …", "imported 12 documents: …", "polled kz-gov: 5 items, …").

    def sources_text(self) -> str:
        """``7 ok (2 not modified), 1 failed, 3 not due``: the bracket and the last part only
        when not zero."""
        modified = f" ({len(self.not_modified)} not modified)" if self.not_modified else ""
        not_due = f", {len(self.not_due)} not due" if self.not_due else ""
        return f"{self.sources_ok} ok{modified}, {self.sources_failed} failed{not_due}"

    def counts_text(self) -> str:
        """``2 new, 0 updated, 9 unchanged, 1 duplicates; 3 new signals``: what the items
        became."""
        o = self.outcomes
        return (
            f"{o[Outcome.NEW]} new, {o[Outcome.UPDATED]} updated, {o[Outcome.UNCHANGED]} "
            f"unchanged, {o[Outcome.DUPLICATE]} duplicates; {self.signals_new} new signals"
        )

    def notes(self, skipped: int = 20) -> list[str]:
        """A line per failed source, per source not due, and per skipped item (the first
        ``skipped`` of them)."""
        out = [f"{name} failed: {error}" for name, error in self.errors.items()]
        out += [f"{n}: not due until {t:%Y-%m-%d %H:%M} UTC" for n, t in self.not_due.items()]
        out += [f"skipped {item}" for item in self.skipped[:skipped]]
        if len(self.skipped) > skipped:
            out.append(f"… and {len(self.skipped) - skipped} more skipped")
        return out


DEFAULT_MAX_WAIT_S = 24 * 3600.0


def collect_sources(
    engine: Engine,
    flagger: Flagger,
    fetcher: Fetcher,
    sources: Iterable[SourceConfig],
    *,
    max_wait: float = DEFAULT_MAX_WAIT_S,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Poll every enabled source once; record health per source and a ``runs`` row.

    A source is left alone while the server's freshness (Cache-Control max-age, feed TTL),
    its Retry-After or our back-off after failures says so — each capped at ``max_wait``
    seconds — unless ``force``. Feeds are fetched conditionally (ETag, Last-Modified).
    Nothing a source or an item does stops the others: any error is recorded on the source's
    row (or in ``skipped`` for one item) and the run goes on; the run row is always closed.
    ``progress`` gets one line per source as it finishes (the terminal's progress display).
    """
    sources = [s for s in sources if s.enabled]
    summary = RunSummary()
    pending: list[_Success] = []  # 304s: health written in batches, not one commit each
    with db.session_scope(engine) as session:
        ids = sync_sources(session, (source_spec(s) for s in sources))
        session.flush()
        states = poll_states(session, ids.values())
        run = m.Run(kind="collect")
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        for i, source in enumerate(sources, 1):
            sid = ids[source.name]
            seen, new = summary.items_seen, summary.outcomes[Outcome.NEW]
            _collect_one(
                engine,
                flagger,
                fetcher,
                source,
                sid,
                states[sid],
                summary,
                max_wait,
                force,
                pending,
            )
            if len(pending) >= HEALTH_BATCH:
                _record_successes(engine, pending)
            if progress is not None:
                name = source.name
                if name in summary.errors:
                    what = f"failed: {summary.errors[name][:120]}"
                elif name in summary.not_due:
                    what = f"not due until {summary.not_due[name]:%Y-%m-%d %H:%M} UTC"
                elif name in summary.not_modified:
                    what = "not modified (304)"
                else:
                    what = (
                        f"{summary.items_seen - seen} items, "
                        f"{summary.outcomes[Outcome.NEW] - new} new"
                    )
                progress(f"[{i}/{len(sources)}] {name}: {what}")
    finally:
        if pending:
            _record_successes(engine, pending)
        with db.session_scope(engine) as session:
            close_run(session.get_one(m.Run, run_id), summary)
    return summary


def _collect_one(
    engine: Engine,
    flagger: Flagger,
    fetcher: Fetcher,
    source: SourceConfig,
    source_id: int,
    state: PollState,
    summary: RunSummary,
    max_wait: float,
    force: bool,
    pending: list[_Success],
) -> None:
    now = m.utcnow()
    if not force and not state.due(now):
        when = state.next_poll()
        assert when is not None
        summary.not_due[source.name] = when
        return
    try:
        known: dict[str, datetime] = {}
        if source.type != "rss" and source.revisit_days:
            with db.session_scope(engine) as session:
                known = known_urls(session, source_id)
        collected = collect(
            source, fetcher, Validators(state.etag, state.last_modified), known=known
        )
    except Exception as exc:  # a source is never allowed to stop the run
        message = str(exc) if isinstance(exc, RegwatchError) else f"{type(exc).__name__}: {exc}"
        log.warning("%s: %s", source.name, message)
        summary.sources_failed += 1
        summary.errors[source.name] = message
        wait = backoff_seconds(
            state.consecutive_failures + 1, source.interval_minutes * 60.0, max_wait
        )
        if isinstance(exc, FetchError) and exc.retry_after:
            wait = max(wait, min(exc.retry_after, max_wait))
        with db.session_scope(engine) as session:
            record_failure(
                session, source_id, message, now + timedelta(seconds=wait) if wait else None
            )
        return
    summary.sources_ok += 1
    summary.skipped.extend(f"{source.name}: {s}" for s in collected.skipped)
    summary.skipped.extend(f"{source.name}: {w}" for w in collected.warnings)
    skipped = len(collected.skipped)
    if collected.not_modified:
        summary.not_modified.append(source.name)
    for doc, result in ingest(engine, flagger, collected.documents):
        summary.items_seen += 1
        if isinstance(result, Exception):  # one bad item never stops the others
            log.warning("%s: could not ingest %s: %s", source.name, doc.url, result)
            summary.skipped.append(f"{source.name}: {doc.url}: not stored ({result})")
            skipped += 1
            continue
        summary.outcomes[result.outcome] += 1
        summary.signals_new += result.signals_new
    fresh = min(collected.fresh_for, max_wait) if collected.fresh_for else 0.0
    v = collected.validators
    success = _Success(
        source_id,
        len(collected.documents),
        (v.etag, v.last_modified) if v or not collected.not_modified else None,
        m.utcnow() + timedelta(seconds=fresh) if fresh else None,
        skipped,
        "; ".join(collected.warnings) or None,
    )
    if collected.not_modified:  # nothing else to write: recorded with others, in one go
        pending.append(success)
    else:
        _record_successes(engine, [success])


@dataclass(frozen=True)
class _Success:
    source_id: int
    items: int
    validators: tuple[str | None, str | None] | None
    fresh_until: datetime | None
    skipped: int = 0
    warning: str | None = None  # what the poll noticed though it worked


HEALTH_BATCH = 100


def _record_successes(engine: Engine, successes: list[_Success]) -> None:
    with db.session_scope(engine) as session:
        for x in successes:
            record_success(
                session,
                x.source_id,
                x.items,
                validators=x.validators,
                fresh_until=x.fresh_until,
                skipped=x.skipped,
                warning=x.warning,
            )
    successes.clear()


def close_run(run: m.Run, summary: RunSummary) -> None:
    run.finished_at = m.utcnow()
    run.status = "ok" if not summary.sources_failed else "partial"
    run.sources_ok, run.sources_failed = summary.sources_ok, summary.sources_failed
    run.items_seen = summary.items_seen
    run.documents_new = summary.outcomes[Outcome.NEW]
    run.documents_updated = summary.outcomes[Outcome.UPDATED]
    run.signals_new = summary.signals_new
    run.error = "; ".join(f"{k}: {v}" for k, v in summary.errors.items())[:4000] or None


def source_spec(source: SourceConfig) -> SourceSpec:
    """What the store keeps of a configured source."""
    return SourceSpec(
        source.name, source.url, source.type, source.country, source.languages, source.tier
    )
