"""`regwatch status` on a real store: jobs, runs, outbox, digests, and the health verdict."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from regwatch.cli import main
from regwatch.config import SourceConfig
from regwatch.nlp import Flagger
from regwatch.status import read_status
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.models import utcnow
from tests.alerts.conftest import seed, subscription


def _finish_run(engine: Engine, when: object) -> None:
    with db.session_scope(engine) as s:
        s.add(m.Run(kind="collect", started_at=when, finished_at=when, status="ok",
                    sources_ok=1, sources_failed=0, items_seen=3, documents_new=3,
                    documents_updated=0, signals_new=4))  # fmt: skip


def test_healthy_then_each_problem(engine: Engine, flagger: Flagger) -> None:
    seeded = seed(engine, flagger)
    now = utcnow()
    sources = [SourceConfig(name=n, url=f"https://{n}/rss", interval_minutes=30)
               for n in ("kz-gov", "asia-news", "uz-news")]  # fmt: skip
    with db.session_scope(engine) as s:
        s.execute(update(m.Source).values(last_attempt_at=now, last_success_at=now))
    _finish_run(engine, now - timedelta(minutes=5))
    sub = subscription(digest_time=(now - timedelta(hours=3)).strftime("%H:%M"))
    status = read_status(engine, sources, [sub], now)
    assert status.healthy, status.problems
    assert status.service == "not running"
    assert [j["job"] for j in status.jobs][:3] == ["poll kz-gov", "poll asia-news", "poll uz-news"]
    assert status.jobs[0]["next_run"] == now + timedelta(minutes=30)
    text = "\n".join(status.lines())
    assert "collect" in text and "healthy" in text and "gr-team" in text

    # stale collection, failing sources, a failed delivery, an overdue digest
    later = now + timedelta(hours=2)
    with db.session_scope(engine) as s:
        s.execute(update(m.Source).values(consecutive_failures=5, last_error="HTTP 503"))
        s.add(m.Delivery(subscription="gr-team", channel="email", kind="digest",
                         period=(seeded.started - timedelta(days=2)).date().isoformat(),
                         message_id="<x@y>", status="failed", attempts=8))  # fmt: skip
    bad = read_status(engine, sources, [sub], later + timedelta(days=1))
    joined = " | ".join(bad.problems)
    assert not bad.healthy
    assert "no collection run has finished since" in joined
    assert "3 of 3 enabled sources are failing" in joined
    assert "1 deliveries failed for good" in joined
    assert "gr-team: the digest for" in joined
    assert json.loads(json.dumps(bad.as_json()))["healthy"] is False


def test_status_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///s.db"\n[[sources]]\nname = "a"\nurl = "https://a/rss"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "status"]) == 1  # no database: not created by status
    assert "does not exist" in capsys.readouterr().err
    assert main(["--config", str(cfg), "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "status"]) == 1  # nothing has ever been collected
    out = capsys.readouterr().out
    assert "UNHEALTHY" in out and "no collection run has finished ever" in out
    assert main(["--config", str(cfg), "status", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["jobs"][0]["job"] == "poll a"
