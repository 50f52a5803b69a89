"""`regwatch run` killed with SIGKILL in the middle of a crawl and in the middle of a digest
send, then restarted: nothing committed is lost, nothing is stored or sent twice, and a digest
missed while the service was down goes out once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.alerts.conftest import SmtpServer, smtp
from tests.conftest import LocalSite
from tests.test_scheduler import wait_for

__all__ = ["smtp"]  # the fixture, shared with tests/alerts

ITEMS = 1000  # several write batches (pipeline.ingest.BATCH), so a kill lands between two
ITEM = (
    "<item><title>Законопроект об искусственном интеллекте № {n}</title>"
    "<link>__BASE__/n/{n}</link><description>Министерство цифрового развития внесло "
    "законопроект об ИИ № {n} и проект постановления о данных.</description></item>"
)
FEED = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
    + "".join(ITEM.format(n=n) for n in range(ITEMS))
    + "</channel></rss>"
)


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


@contextmanager
def _service(cfg: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if k != "REGWATCH_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(15)


def _config(tmp_path: Path, feed: str, extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "svc.db"}"\n'
        "[fetch]\nallow_networks = ['127.0.0.0/8']\n[service]\ndispatch_seconds = 1\n"
        f'{extra}[[sources]]\nname = "feed"\nurl = "{feed}"\ncountry = "kz"\n',
        encoding="utf-8",
    )
    return cfg


def test_sigkill_mid_crawl_then_restart_stores_everything_once(
    tmp_path: Path, site: LocalSite
) -> None:
    url = site.add("/rss.xml", FEED, content_type="application/rss+xml")
    cfg = _config(tmp_path, url)
    db = tmp_path / "svc.db"
    docs = "SELECT count(*) FROM documents"
    with _service(cfg) as proc:
        wait_for(lambda: _count(db, docs) >= 1, what="the crawl to start storing")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(15)
    stored_at_kill = _count(db, docs)
    assert 1 <= stored_at_kill < ITEMS, "the kill did not land mid-crawl"
    with _service(cfg) as proc:
        wait_for(lambda: _count(db, docs) == ITEMS, timeout=60, what="the rest to be stored")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert _count(db, docs) == ITEMS
    assert _count(db, "SELECT count(DISTINCT canonical_url) FROM documents") == ITEMS
    per_doc = "SELECT max(n) FROM (SELECT count(*) n FROM document_versions GROUP BY document_id)"
    assert _count(db, per_doc) == 1  # no document stored twice as a new version
    dupes = (
        "SELECT count(*) FROM (SELECT 1 FROM signals "
        "GROUP BY version_id, rule, field, start HAVING count(*) > 1)"
    )
    assert _count(db, dupes) == 0


def test_sigkill_mid_digest_send_resends_once_and_a_missed_digest_goes_out_once(
    tmp_path: Path, site: LocalSite, smtp: SmtpServer
) -> None:
    url = site.add("/rss.xml", FEED, content_type="application/rss+xml")
    due = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%H:%M")  # missed: we were down
    cfg = _config(
        tmp_path,
        url,
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\ntimeout = 1.0\n'
        f'[[subscriptions]]\nname = "gr"\nrecipients = ["analyst@example.org"]\n'
        f'digest_time = "{due}"\ntimezone = "UTC"\nimmediate_alerts = false\n',
    )
    with _service(cfg) as proc:
        smtp.inbox.on_data = lambda: os.kill(proc.pid, signal.SIGKILL)  # after the server took it
        wait_for(lambda: proc.poll() is not None, timeout=60, what="the kill during the send")
    smtp.inbox.on_data = None
    assert len(smtp.inbox.messages) == 1
    started = time.monotonic()
    with _service(cfg) as proc:
        # the claim of the killed sender must go stale first: 1 s x (10 + 1 recipient) + 5 s
        wait_for(lambda: len(smtp.inbox.messages) == 2, timeout=60, what="the one resend")
        assert time.monotonic() - started >= 10
        deadline = time.monotonic() + 3  # a few more outbox cycles: no third copy
        while time.monotonic() < deadline:
            assert len(smtp.inbox.messages) == 2
            time.sleep(0.2)  # the outbox ticks every second; this is what is under test
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    first, second = smtp.inbox.messages
    assert first.data == second.data
    assert first.message["Message-ID"] == second.message["Message-ID"]
    runs = "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"
    before = _count(tmp_path / "svc.db", runs)
    with _service(cfg) as proc:  # and a restart sends nothing more
        wait_for(lambda: _count(tmp_path / "svc.db", runs) > before, what="another poll")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert len(smtp.inbox.messages) == 2
