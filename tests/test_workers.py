"""`regwatch worker`: refused on SQLite with the way out, `--init` creates the queue once, and
a real worker process takes a poll job through the one ingest path — and a second job for the
same source in the same interval polls nothing; `status` and the metrics show the queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from sqlalchemy import text

from regwatch.cli import main
from regwatch.metrics import Metrics
from regwatch.store import db
from regwatch.store.lock import InstanceLock
from regwatch.workers import delete_finished_jobs, ensure_schema, make_app, queue_health
from tests.conftest import LocalSite
from tests.fleet import Fleet, feed, scalar, wait_until, write_config


def test_worker_on_sqlite_says_to_use_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "worker"]) != 0
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "regwatch run" in err
    assert main(["--config", str(cfg), "scheduler"]) != 0
    assert "regwatch scheduler" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_init_creates_the_queue_once(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "config.toml", db_url, [])
    assert main(["--config", str(cfg), "worker", "--init"]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["--config", str(cfg), "worker", "--init"]) == 0
    assert "already there" in capsys.readouterr().out
    assert scalar(db_url, "SELECT to_regclass('procrastinate_jobs')::text") == "procrastinate_jobs"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_worker_process_polls_once_per_interval_and_status_shows_the_queue(
    db_url: str, tmp_path: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    url = site.add("/rss.xml", feed(site.base, "one", 7), content_type="application/rss+xml")
    cfg = write_config(tmp_path / "config.toml", db_url, [("one", url)])
    assert main(["--config", str(cfg), "worker", "--init"]) == 0
    app = make_app(db_url)
    with app.open():
        for _ in range(2):  # the second job for the same source, same interval: no poll
            app.configure_task("regwatch.poll").defer(source="one")
    engine = db.make_engine(db_url)
    try:
        health = queue_health(engine)
        assert health is not None and health.waiting == {"regwatch.poll": 2}
        assert health.oldest_waiting_s is not None and health.oldest_waiting_s >= 0
        metrics = Metrics()
        metrics.watch_queue(lambda: queue_health(engine))
        scraped = generate_latest(metrics.registry).decode()
        assert 'regwatch_queue_waiting{task="regwatch.poll"} 2.0' in scraped
        assert "regwatch_workers_alive 0.0" in scraped

        fleet = Fleet(cfg)
        fleet.start("worker", "w")
        try:
            wait_until(
                lambda: (
                    scalar(
                        db_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
                    )
                    == 2
                ),
                120,
                "both jobs to finish",
            )
            assert main(["--config", str(cfg), "status", "--format", "text"]) in (0, 1)
            out = capsys.readouterr().out
            assert "workers:" in out and "alive" in out
            assert "queue (waiting / running / failed):" in out
        finally:
            assert fleet.stop_all() == [0]
        assert site.hits.count("/rss.xml") == 1  # one poll for two jobs
        assert scalar(db_url, "SELECT count(*) FROM documents") == 7
        with engine.connect() as conn:
            results = conn.execute(
                text("SELECT count(*) FROM procrastinate_events WHERE type = 'succeeded'")
            ).scalar()
        assert results == 2
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_maintenance_deletes_old_finished_jobs_and_keeps_failed_ones(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        ensure_schema(engine)
        app = make_app(db_url)
        with app.open():
            ids = [app.configure_task("regwatch.dispatch").defer() for _ in range(3)]
        old, recent, failed = ids
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id IN (:a, :b)"),
                {"a": old, "b": recent},
            )
            conn.execute(
                text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :c"), {"c": failed}
            )
            for job, age in ((old, "5 days"), (recent, "1 hour"), (failed, "5 days")):
                conn.execute(
                    text(
                        "INSERT INTO procrastinate_events (job_id, type, at) VALUES "
                        "(:j, CASE WHEN :j = :c THEN 'failed' ELSE 'succeeded' END::"
                        "procrastinate_job_event_type, now() - CAST(:age AS interval))"
                    ),
                    {"j": job, "c": failed, "age": age},
                )
        assert delete_finished_jobs(engine, 72) == 1
        with engine.connect() as conn:
            left = set(conn.execute(text("SELECT id FROM procrastinate_jobs")).scalars())
        assert left == {recent, failed}
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_scheduler_refuses_beside_a_running_service(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "config.toml", db_url, [])
    engine = db.make_engine(db_url)
    try:
        with InstanceLock(engine):  # what `regwatch run` holds while it runs
            assert main(["--config", str(cfg), "scheduler"]) != 0
        err = capsys.readouterr().err
        assert "regwatch run pid=" in err and "stop it first" in err
    finally:
        engine.dispose()
