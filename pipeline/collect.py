"""Poll configured sources, ingest what they yield, record each source's health and the run's
counts. One bad source or item never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from regwatch.config import SourceConfig
from regwatch.config.checks import MAX_URL
from regwatch.crawlers import Document, Fetcher, collect
from regwatch.crawlers.politeness import Validators, backoff_seconds
from regwatch.errors import FetchError, RegwatchError
from regwatch.nlp import Flagger
from regwatch.pipeline.dedupe import Outcome
from regwatch.pipeline.ingest import ingest
from regwatch.pipeline.runs import finish_run, open_run
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.evidence import EvidenceStore
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
    not_stored: int = 0  # items that failed to store: fetched again on the next poll
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
    evidence: EvidenceStore | None = None,
) -> RunSummary:
    """Poll every enabled source once; record health per source and a ``runs`` row.

    A source is left alone while the server's freshness (Cache-Control max-age, feed TTL),
    its Retry-After or our back-off after failures says so — each capped at ``max_wait``
    seconds — unless ``force``. Feeds are fetched conditionally (ETag, Last-Modified).
    Nothing a source or an item does stops the others: any error is recorded on the source's
    row (or in ``skipped`` for one item) and the run goes on; the run row is always closed.
    ``progress`` gets one line per source as it finishes (the terminal's progress display).
    With ``evidence``, documents that raise signals keep their captures there.
    """
    sources = [s for s in sources if s.enabled]
    summary = RunSummary()
    pending: list[_Success] = []  # 304s: health written in batches, not one commit each

    def setup(session: Session) -> tuple[dict[str, int], dict[int, PollState]]:
        ids = sync_sources(session, (source_spec(s) for s in sources))
        session.flush()
        return ids, poll_states(session, ids.values())

    run_id, holder, prepared = open_run(engine, "collect", setup)
    assert prepared is not None
    ids, states = prepared
    error: BaseException | None = None
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
                evidence,
            )
            if len(pending) >= HEALTH_BATCH:
                _record_successes(engine, pending, summary)
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
    except BaseException as exc:
        error = exc
        raise
    finally:
        if pending:
            _record_successes(engine, pending, summary)
        finish_run(engine, run_id, holder, summary, error)
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
    evidence: EvidenceStore | None = None,
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
        message = _message(exc)
        wait = backoff_seconds(
            state.consecutive_failures + 1, source.interval_minutes * 60.0, max_wait
        )
        if isinstance(exc, FetchError) and exc.retry_after:
            wait = max(wait, min(exc.retry_after, max_wait))
        retry_at = now + timedelta(seconds=wait) if wait else None
        _fail(engine, source, source_id, message, summary, retry_at)
        return
    documents, too_long = fit_urls(collected.documents)
    summary.skipped.extend(f"{source.name}: {s}" for s in [*collected.skipped, *too_long])
    skipped = len(collected.skipped) + len(too_long)
    failed = _ingest(engine, flagger, source, documents, summary, evidence)
    if failed:
        # Validators, freshness and the listing's state stay as they were, so the next poll
        # fetches this response again and stores what is missing (nothing is stored twice).
        first = failed[0]
        _fail(
            engine,
            source,
            source_id,
            f"{len(failed)} of {len(documents)} items not stored ({first}); "
            "they are fetched again on the next poll",
            summary,
            None,
        )
        return
    summary.sources_ok += 1
    summary.skipped.extend(f"{source.name}: {w}" for w in collected.warnings)
    if collected.not_modified:
        summary.not_modified.append(source.name)
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
        _record_successes(engine, [success], summary)


def fit_urls(documents: list[Document]) -> tuple[list[Document], list[str]]:
    """The documents whose URL the store can keep, and a reason for each one left out (a
    link longer than the database column: skipped, never a failed batch)."""
    kept: list[Document] = []
    skipped: list[str] = []
    for doc in documents:
        if len(doc.canonical_url) > MAX_URL:
            skipped.append(
                f"{doc.url[:80]}…: link of {len(doc.canonical_url)} characters, over the "
                f"{MAX_URL} the database keeps"
            )
        else:
            kept.append(doc)
    return kept, skipped


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, RegwatchError) else f"{type(exc).__name__}: {exc}"


def _ingest(
    engine: Engine,
    flagger: Flagger,
    source: SourceConfig,
    documents: list[Document],
    summary: RunSummary,
    evidence: EvidenceStore | None = None,
) -> list[str]:
    """Store ``documents``; return why each one that was not stored was not (empty: all
    stored). A store that fails as a whole (locked past the busy timeout) fails the items
    not yet stored — never the run."""
    failed: list[str] = []
    done = 0
    try:
        for doc, result in ingest(engine, flagger, documents, evidence=evidence):
            done += 1
            summary.items_seen += 1
            if isinstance(result, Exception):  # one bad item never stops the others
                failed.append(f"{doc.url}: {_message(result)}")
                log.warning("%s: not stored: %s", source.name, failed[-1])
                continue
            summary.outcomes[result.outcome] += 1
            summary.signals_new += result.signals_new
    except Exception as exc:
        reason = _message(exc)
        log.warning("%s: %d items not stored: %s", source.name, len(documents) - done, reason)
        summary.items_seen += len(documents) - done
        failed.extend(f"{doc.url}: {reason}" for doc in documents[done:])
    for why in failed:
        summary.skipped.append(f"{source.name}: {why} (not stored; retried next poll)")
    summary.not_stored += len(failed)
    return failed


def _fail(
    engine: Engine,
    source: SourceConfig,
    source_id: int,
    message: str,
    summary: RunSummary,
    retry_at: datetime | None,
) -> None:
    """Count the source as failed and record it on its row (when the store lets us)."""
    log.warning("%s: %s", source.name, message)
    summary.sources_failed += 1
    summary.errors[source.name] = message
    try:
        with db.session_scope(engine) as session:
            record_failure(session, source_id, message, retry_at)
    except Exception as exc:  # its row keeps its old validators: the next poll retries
        log.warning("%s: could not record the failure (%s)", source.name, _message(exc))


@dataclass(frozen=True)
class _Success:
    source_id: int
    items: int
    validators: tuple[str | None, str | None] | None
    fresh_until: datetime | None
    skipped: int = 0
    warning: str | None = None  # what the poll noticed though it worked


HEALTH_BATCH = 100


def _record_successes(
    engine: Engine, successes: list[_Success], summary: RunSummary | None = None
) -> None:
    """Write these polls' health in one transaction. When the store refuses (a lock past the
    busy timeout), the run goes on: those rows keep their old validators and times."""
    try:
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
    except Exception as exc:
        log.warning("could not record %d polls' health: %s", len(successes), _message(exc))
        if summary is not None:
            summary.errors.setdefault("(source health)", _message(exc))
    successes.clear()


def source_spec(source: SourceConfig) -> SourceSpec:
    """What the store keeps of a configured source."""
    return SourceSpec(
        source.name, source.url, source.type, source.country, source.languages, source.tier
    )
