"""claim_poll: of several callers holding a job for one source, one polls it per interval."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from regwatch.store import db
from regwatch.store.models import utcnow
from regwatch.store.sources import SourceSpec, claim_poll, record_failure, sync_sources

SPEC = SourceSpec("feed", "https://x.example/rss", "rss", "kz", ("ru",), "news")
HOUR = timedelta(hours=1)


def _source(engine: Engine) -> int:
    with db.session_scope(engine) as s:
        return sync_sources(s, [SPEC])["feed"]


def test_one_claim_per_interval(engine: Engine) -> None:
    sid = _source(engine)
    now = utcnow()
    with db.session_scope(engine) as s:
        assert claim_poll(s, sid, HOUR, now)
    with db.session_scope(engine) as s:  # a second job for the same source: not due any more
        assert not claim_poll(s, sid, HOUR, now + timedelta(minutes=1))
    with db.session_scope(engine) as s:  # the next interval
        assert claim_poll(s, sid, HOUR, now + HOUR)


def test_a_claim_read_before_another_commits_loses(engine: Engine) -> None:
    sid = _source(engine)
    now = utcnow()
    with db.session_scope(engine) as first, db.session_scope(engine) as second:
        # both read "never polled"; the first's UPDATE commits, the second's finds the row moved
        assert claim_poll(first, sid, HOUR, now)
        first.commit()
        assert not claim_poll(second, sid, HOUR, now)


def test_back_off_and_retry_after_on_the_row_hold(engine: Engine) -> None:
    sid = _source(engine)
    now = utcnow()
    with db.session_scope(engine) as s:
        record_failure(s, sid, "503", next_retry_at=now + 2 * HOUR)
    with db.session_scope(engine) as s:  # an interval passed, but the server said later
        assert not claim_poll(s, sid, HOUR, now + HOUR)
    with db.session_scope(engine) as s:
        assert claim_poll(s, sid, HOUR, now + 2 * HOUR)


def test_an_unknown_source_is_not_claimed(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        assert not claim_poll(s, 12345, HOUR, utcnow())
