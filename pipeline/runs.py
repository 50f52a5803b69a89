"""A run's row in ``runs``, from open to close: what `status` and the UI report.

A run is opened with the lock that says its process is alive (:class:`store.lock.RunHolder`)
and always closed with what happened: ``ok``, ``partial`` (a source failed or an item was not
stored) or ``failed`` (the run itself stopped on an error). A row left ``running`` by a
process that died is closed as ``interrupted`` by the next run that opens (and `status` shows
it so before that)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from regwatch.pipeline.dedupe import Outcome
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.lock import RunHolder, forget_run, holder_gone

if TYPE_CHECKING:
    from regwatch.pipeline.collect import RunSummary

__all__ = ["INTERRUPTED", "close_run", "close_stale_runs", "finish_run", "open_run", "stale_runs"]

T = TypeVar("T")
log = logging.getLogger("regwatch.pipeline")

INTERRUPTED = (
    "interrupted: the process doing this run stopped before closing it (killed, or the "
    "machine went down); what it stored is kept, and the next poll fetches the rest"
)


def open_run(
    engine: Engine, kind: str, setup: Callable[[Session], T] | None = None
) -> tuple[int, RunHolder, T | None]:
    """Insert a ``running`` row of ``kind`` held by this process, after closing stale ones;
    ``setup`` runs in the same transaction (the sources' rows)."""
    holder: RunHolder | None = None
    try:
        with db.session_scope(engine) as session:
            close_stale_runs(engine, session)
            prepared = setup(session) if setup is not None else None
            run = m.Run(kind=kind)
            session.add(run)
            session.flush()
            holder = RunHolder(engine, run.id).acquire()  # before the row is visible
            run_id = run.id
    except BaseException:
        if holder is not None:
            holder.release()
        raise
    return run_id, holder, prepared


def stale_runs(engine: Engine, runs: list[m.Run]) -> set[int]:
    """The ids among ``runs`` still ``running`` whose process is gone."""
    return {r.id for r in runs if r.status == "running" and holder_gone(engine, r.id)}


def close_stale_runs(engine: Engine, session: Session) -> int:
    """Close as ``interrupted`` every running row whose process is gone; return how many."""
    running = list(session.scalars(select(m.Run).where(m.Run.status == "running")))
    stale = stale_runs(engine, running)
    for run in running:
        if run.id in stale:
            run.status = "interrupted"
            run.error = INTERRUPTED
            forget_run(engine, run.id)
    return len(stale)


def close_run(run: m.Run, summary: RunSummary, error: BaseException | None = None) -> None:
    """Write the run's counts and what happened; ``error`` is what stopped the run, if any."""
    run.finished_at = m.utcnow()
    if error is not None:
        run.status = "failed"
    elif summary.sources_failed or summary.not_stored:
        run.status = "partial"
    else:
        run.status = "ok"
    run.sources_ok, run.sources_failed = summary.sources_ok, summary.sources_failed
    run.items_seen = summary.items_seen
    run.documents_new = summary.outcomes[Outcome.NEW]
    run.documents_updated = summary.outcomes[Outcome.UPDATED]
    run.signals_new = summary.signals_new
    parts = [f"{k}: {v}" for k, v in summary.errors.items()]
    if summary.not_stored:
        parts.append(f"{summary.not_stored} items not stored (retried next time)")
    if error is not None:
        parts.insert(0, f"stopped: {type(error).__name__}: {error}")
    run.error = "; ".join(parts)[:4000] or None


def finish_run(
    engine: Engine, run_id: int, holder: RunHolder, summary: RunSummary, error: BaseException | None
) -> None:
    """Close the row and drop the holder. If the row cannot be written (the store is locked
    past the busy timeout), the holder is dropped anyway: the next run closes the row as
    interrupted instead of it staying ``running``."""
    try:
        with db.session_scope(engine) as session:
            close_run(session.get_one(m.Run, run_id), summary, error)
    except Exception as exc:  # the summary still reaches the caller; status shows the row
        log.warning(
            "run %d: could not close its row (%s); it will read as interrupted", run_id, exc
        )
    finally:
        holder.release()
