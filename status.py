"""``regwatch status``: what the service is doing and whether it is healthy — jobs and their
next runs, recent runs, source health, the outbox and each subscription's last digest — read
from the database alone, so it works beside a running service, from cron and from monitoring.

Unhealthy (exit 1) when: no collection run has finished within twice the shortest polling
interval (plus a grace period), a delivery has failed for good, most enabled sources are
failing, or a subscription's digest is more than an hour overdue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from regwatch.alerts.report import latest_period, period_end
from regwatch.config import SourceConfig, SubscriptionConfig
from regwatch.errors import LockHeld
from regwatch.pipeline.runs import stale_runs
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.lock import InstanceLock
from regwatch.store.sources import poll_state

__all__ = ["Status", "due_sources", "read_status"]

GRACE = timedelta(minutes=10)
DIGEST_OVERDUE = timedelta(hours=1)
FAILING = 3  # failed polls in a row that count a source as failing


@dataclass
class Status:
    now: datetime
    service: str  # "running (…)" or "not running"
    jobs: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)
    digests: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    queue: dict[str, Any] | None = None  # workers and the job queue (PostgreSQL, if used)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"service: {self.service}", *self._queue_lines(), "", "jobs (next run, UTC):"]
        for job in self.jobs:
            when = job["next_run"].strftime("%Y-%m-%d %H:%M") if job["next_run"] else "now"
            out.append(f"  {job['job']:<34} {when}  {job['note']}")
        out += ["", "recent runs:"]
        for run in self.runs:
            finished = run["finished_at"].strftime("%H:%M:%S") if run["finished_at"] else "…"
            out.append(
                f"  {run['kind']:<8} {run['started_at']:%Y-%m-%d %H:%M:%S} → {finished}  "
                f"{run['status'] or 'running':<8} {run['items_seen']} items, "
                f"{run['documents_new']} new, {run['signals_new']} signals"
            )
        if not self.runs:
            out.append("  none yet")
        states = ", ".join(f"{n} {k}" for k, n in sorted(self.outbox.items())) or "empty"
        out += ["", f"outbox: {states}", "", "digests:"]
        for d in self.digests:
            out.append(
                f"  {d['subscription']:<20} last {d['last_period'] or 'never'} "
                f"({d['last_status'] or '-'}); next due {d['next_due']:%Y-%m-%d %H:%M}"
            )
        if not self.digests:
            out.append("  no subscriptions")
        out += ["", "healthy" if self.healthy else "UNHEALTHY:"]
        out += [f"  - {p}" for p in self.problems]
        return out

    def _queue_lines(self) -> list[str]:
        q = self.queue
        if q is None:
            return []
        out = ["", f"schedulers: {', '.join(q['schedulers']) or 'none running'}", "workers:"]
        for w in q["workers"]:
            state = "alive" if w["alive"] else "silent"
            doing = f", running {w['running']}" if w["running"] else ", idle"
            out.append(
                f"  worker {w['id']:<6} {state}, heartbeat {w['heartbeat_age_s']} s ago{doing}"
            )
        if not q["workers"]:
            out.append("  none")
        kinds = sorted({*q["waiting"], *q["running"], *q["failed"]})
        out.append("queue (waiting / running / failed):")
        for k in kinds:
            out.append(
                f"  {k:<20} {q['waiting'].get(k, 0)} / {q['running'].get(k, 0)} / "
                f"{q['failed'].get(k, 0)}"
            )
        if not kinds:
            out.append("  empty")
        oldest = q["oldest_waiting_s"]
        out.append(f"oldest waiting job: {'none' if oldest is None else f'{oldest:.0f} s'}")
        return out

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        result: dict[str, Any] = plain(
            {
                "now": self.now,
                "service": self.service,
                "healthy": self.healthy,
                "problems": self.problems,
                "jobs": self.jobs,
                "runs": self.runs,
                "outbox": self.outbox,
                "digests": self.digests,
                "queue": self.queue,
            }
        )
        return result


def due_sources(
    engine: Engine, sources: Sequence[SourceConfig], now: datetime
) -> list[SourceConfig]:
    """The enabled sources whose next poll has come (for `regwatch run --once`)."""
    with db.session_scope(engine) as session:
        rows = {r.name: r for r in session.scalars(select(m.Source))}
    return [
        src
        for src in sources
        if src.enabled
        and poll_state(rows.get(src.name)).due(now, timedelta(minutes=src.interval_minutes))
    ]


def _service(engine: Engine) -> str:
    try:
        with InstanceLock(engine):
            return "not running"
    except LockHeld as exc:
        detail = str(exc).split("(", 1)[-1].split(")", 1)[0]
        return f"running ({detail})"


def read_status(
    engine: Engine,
    sources: Sequence[SourceConfig],
    subscriptions: Sequence[SubscriptionConfig],
    now: datetime,
    dispatch_every: timedelta = timedelta(minutes=1),
    stalled_after: float = 30.0,
) -> Status:
    status = Status(now, _service(engine))
    _read_queue(engine, status, stalled_after)
    enabled = [s for s in sources if s.enabled]
    with db.session_scope(engine) as session:
        rows = {r.name: r for r in session.scalars(select(m.Source))}
        for src in enabled:
            row = rows.get(src.name)
            interval = timedelta(minutes=src.interval_minutes)
            if row is None or row.last_attempt_at is None:
                status.jobs.append(
                    {"job": f"poll {src.name}", "next_run": None, "note": "never polled"}
                )
                continue
            note = (
                f"{row.consecutive_failures} failures in a row: {(row.last_error or '')[:60]}"
                if row.consecutive_failures
                else f"ok, {row.items_last_run} items"
                + (f", {row.skipped_last_run} skipped" if row.skipped_last_run else "")
            )
            when = poll_state(row).next_poll(interval)
            status.jobs.append({"job": f"poll {src.name}", "next_run": when, "note": note})
        status.jobs.append({"job": "alerts and digests (outbox)", "next_run": None,
                            "note": f"every {int(dispatch_every.total_seconds())} s"})  # fmt: skip
        runs = list(session.scalars(select(m.Run).order_by(m.Run.id.desc()).limit(5)))
        stale = stale_runs(engine, runs)  # "running", but the process doing it is gone
        status.runs = [
            {
                "kind": r.kind,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "status": "interrupted" if r.id in stale else r.status,
                "items_seen": r.items_seen,
                "documents_new": r.documents_new,
                "signals_new": r.signals_new,
            }
            for r in runs
        ]
        latest: dict[str, dict[str, Any]] = {}
        for run in status.runs:
            latest.setdefault(run["kind"], run)
        for kind, run in latest.items():
            if run["status"] == "interrupted":
                status.problems.append(
                    f"the last {kind} run (started {run['started_at']:%Y-%m-%d %H:%M} UTC) was "
                    "interrupted before it finished; the next run closes it and fetches the rest"
                )
        last_collect = session.scalar(
            select(func.max(m.Run.finished_at)).where(m.Run.kind == "collect")
        )
        status.outbox = {
            state: n
            for state, n in session.execute(
                select(m.Delivery.status, func.count()).group_by(m.Delivery.status)
            )
        }
        for sub in subscriptions:
            last = session.execute(
                select(m.Delivery.period, m.Delivery.status)
                .where(m.Delivery.subscription == sub.name, m.Delivery.kind == "digest")
                .order_by(m.Delivery.period.desc())
                .limit(1)
            ).first()
            day, end = latest_period(sub, now)
            status.digests.append(
                {
                    "subscription": sub.name,
                    "last_period": last[0] if last else None,
                    "last_status": last[1] if last else None,
                    "next_due": period_end(sub, day + timedelta(days=1)),
                }
            )
            overdue = now - end > DIGEST_OVERDUE and sub.recipients
            if overdue and last is not None and (last[0] or "") < day.isoformat():
                status.problems.append(
                    f"{sub.name}: the digest for {day} was due at {end:%Y-%m-%d %H:%M} UTC "
                    "and has not been queued"
                )
        failing = [
            r.name for s in enabled if (r := rows.get(s.name)) and r.consecutive_failures >= FAILING
        ]
    if enabled:
        shortest = min(timedelta(minutes=s.interval_minutes) for s in enabled)
        if last_collect is None or now - last_collect > 2 * shortest + GRACE:
            since = f"since {last_collect:%Y-%m-%d %H:%M} UTC" if last_collect else "ever"
            status.problems.append(f"no collection run has finished {since}")
        if len(failing) * 2 > len(enabled):
            status.problems.append(
                f"{len(failing)} of {len(enabled)} enabled sources are failing: "
                f"{', '.join(failing[:10])}"
            )
    if status.outbox.get("failed"):
        status.problems.append(
            f"{status.outbox['failed']} deliveries failed for good; see `regwatch alerts list "
            "--status failed`, then `regwatch alerts retry`"
        )
    return status


def _read_queue(engine: Engine, status: Status, stalled_after: float) -> None:
    """The workers and the job queue, when this database has one (`regwatch worker`)."""
    from regwatch.workers import queue_health

    health = queue_health(engine, stalled_after)
    if health is None:
        return
    status.queue = dataclasses.asdict(health)
    failed = sum(health.failed.values())
    if failed:
        status.problems.append(
            f"{failed} jobs failed ({', '.join(f'{k}: {n}' for k, n in health.failed.items())}); "
            "see the worker logs (a poll's own errors are on its source, not here)"
        )
    alive = [w for w in health.workers if w["alive"]]
    if sum(health.waiting.values()) and not alive:
        status.problems.append(
            f"{sum(health.waiting.values())} jobs waiting and no worker alive; start "
            "'regwatch worker'"
        )
