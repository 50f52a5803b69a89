"""Captures kept for flagged documents: collected from a real loopback feed and page, stored in
real SQLite and PostgreSQL, read back with warcio; verify, export and prune."""

from __future__ import annotations

import gzip
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from regwatch.config import SourceConfig
from regwatch.crawlers import Document
from regwatch.crawlers.fetch import Fetcher, FetchPolicy
from regwatch.errors import EvidenceError
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources, ingest
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.evidence import (
    EvidenceStore,
    captures_of,
    export,
    prune,
    verify,
)
from regwatch.store.warc import iter_records
from tests.conftest import LocalSite

RECORD = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0, record=True)
TEXT = (
    "Министерство опубликовало законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности для регулирования ИИ."
)
RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об ИИ</title><link>__BASE__/n/1</link><description>{text}</description></item>
<item><title>Проект закона о данных</title><link>__BASE__/n/2</link><description>{text} Второй.</description></item>
<item><title>Погода</title><link>__BASE__/n/3</link><description>Солнечно.</description></item>
</channel></rss>"""


def _count(engine: Engine, model: type[m.Base]) -> int:
    with db.session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _doc_ids(engine: Engine) -> dict[str, int]:
    with db.session_scope(engine) as s:
        return {url.rsplit("/", 1)[-1]: i for url, i in s.execute(select(m.Document.url, m.Document.id))}


def _collect(engine: Engine, flagger: Flagger, url: str, store: EvidenceStore) -> None:
    source = SourceConfig(name="feed", url=url, country="kz")
    with Fetcher(RECORD) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, [source], evidence=store, force=True)
    assert summary.sources_ok == 1, summary.errors


def test_a_feeds_one_exchange_is_stored_once_for_its_flagged_items(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    body = RSS.format(text=TEXT)
    wire = gzip.compress(body.replace("__BASE__", site.base).encode())
    url = site.add("/rss.xml", wire, content_type="application/rss+xml", headers={"Content-Encoding": "gzip"})
    store = EvidenceStore(tmp_path / "evidence")
    _collect(engine, flagger, url, store)
    ids = _doc_ids(engine)
    assert _count(engine, m.Capture) == 1
    with db.session_scope(engine) as s:
        one, two, weather = (captures_of(s, ids[k]) for k in ("1", "2", "3"))
        assert weather == []  # no signal, no capture
        assert [c.sha256 for c in one] == [c.sha256 for c in two] and len(one) == 1
        [row] = one
        assert row.url == url and row.version == 1 and row.records == 3
        assert datetime.now(UTC) - row.captured_at < timedelta(minutes=1)
        out = io.BytesIO()
        assert export(s, store, ids["1"], out) == 1
    path = store.path(row.sha256)
    assert path.stat().st_size == row.size and path.read_bytes() == out.getvalue()
    [response] = [
        (r.http_headers.get_header("Content-Encoding"), r.raw_stream.read())
        for r in iter_records(out.getvalue())
        if r.rec_type == "response"
    ]
    assert response == ("gzip", wire)
    # polled again: unchanged items keep their capture, nothing new is stored
    _collect(engine, flagger, url, store)
    assert _count(engine, m.Capture) == 1 and _count(engine, m.DocumentCapture) == 2
    assert verify(engine, store).ok


def test_a_new_version_keeps_a_capture_of_its_own(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    url = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    store = EvidenceStore(tmp_path / "evidence")
    _collect(engine, flagger, url, store)
    site.add("/rss.xml", RSS.format(text=TEXT + " Срок обсуждения продлён."), content_type="application/rss+xml")
    _collect(engine, flagger, url, store)
    ids = _doc_ids(engine)
    with db.session_scope(engine) as s:
        rows = captures_of(s, ids["1"])
    assert [r.version for r in rows] == [1, 2] and rows[0].sha256 != rows[1].sha256
    assert _count(engine, m.Capture) == 2


def test_verify_names_a_changed_and_a_missing_capture_and_orphans(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    for n in (1, 2):
        url = site.add(f"/rss{n}.xml", RSS.format(text=f"{TEXT} {n}"), content_type="application/rss+xml")
        _collect(engine, flagger, url, store)
    report = verify(engine, store)
    assert report.ok and report.checked == 2 and not report.orphans
    with db.session_scope(engine) as s:
        first, second = s.scalars(select(m.Capture.sha256).order_by(m.Capture.id)).all()
    tampered = store.path(first)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    store.path(second).unlink()
    leftover = store.path("ab" + "0" * 62)
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"a file a failed ingest left")
    report = verify(engine, store)
    assert not report.ok
    assert report.mismatched == [str(tampered)] and report.missing == [str(store.path(second))]
    assert report.orphans == [str(leftover)]
    with db.session_scope(engine) as s:
        doc = s.scalar(select(m.DocumentCapture.document_id).join(m.Capture).where(m.Capture.sha256 == first))
        assert doc is not None
        with pytest.raises(EvidenceError, match="does not match its SHA-256"):
            export(s, store, doc, io.BytesIO())


def test_a_failed_transaction_leaves_an_orphan_file_never_a_row(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    url = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    with Fetcher(RECORD) as fetcher:
        resp = fetcher.get(url)
    assert resp.capture is not None
    doc = Document(url=site.base + "/n/1", title="Законопроект об ИИ", text=TEXT, source="nowhere", capture=resp.capture)
    store = EvidenceStore(tmp_path / "evidence")
    [(_, result)] = ingest(engine, flagger, [doc], evidence=store)
    assert isinstance(result, Exception)  # the source is not in the database
    assert _count(engine, m.Capture) == 0  # file written first, no row for it
    report = verify(engine, store)
    assert report.ok and len(report.orphans) == 0  # never reached the write: nothing written
    # a file whose row never came (crash between the two) is pruned once past the grace period
    store.put(resp.capture)
    [orphan] = verify(engine, store).orphans
    assert prune(engine, store, 0).orphans == 0  # young: may be an ingest in progress
    old = time.time() - 2 * 3600
    os.utime(orphan, (old, old))
    assert prune(engine, store, 0).orphans == 1 and not Path(orphan).exists()


def test_retention_keeps_each_flagged_documents_newest_capture(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    url = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    store = EvidenceStore(tmp_path / "evidence")
    _collect(engine, flagger, url, store)
    site.add("/rss.xml", RSS.format(text=TEXT + " Срок обсуждения продлён."), content_type="application/rss+xml")
    _collect(engine, flagger, url, store)
    with db.session_scope(engine) as s:
        old, new = s.scalars(select(m.Capture.sha256).order_by(m.Capture.captured_at)).all()
        for sha, days in ((old, 40), (new, 35)):  # both past 30 days
            when = datetime.now(UTC) - timedelta(days=days)
            s.execute(update(m.Capture).where(m.Capture.sha256 == sha).values(captured_at=when))
    assert prune(engine, store, 0).captures == 0  # 0: keep everything
    report = prune(engine, store, 30)
    assert report.captures == 1 and report.bytes > 0
    assert not store.path(old).exists() and store.path(new).exists()
    with db.session_scope(engine) as s:
        assert s.scalars(select(m.Capture.sha256)).all() == [new]
    assert verify(engine, store).ok


def test_an_unwritable_folder_fails_the_item_with_the_fix(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    url = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    source = SourceConfig(name="feed", url=url, country="kz")
    with Fetcher(RECORD) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, [source], evidence=EvidenceStore(blocker))
    assert summary.not_stored == 2 and summary.outcomes["new"] == 1  # the unflagged item went in
    assert "evidence.dir" in summary.errors["feed"] and "evidence.enabled = false" in summary.errors["feed"]


def test_the_digest_knows_which_documents_kept_a_capture(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    from regwatch.alerts.report import digest_for

    url = site.add("/rss.xml", RSS.format(text=TEXT), content_type="application/rss+xml")
    _collect(engine, flagger, url, EvidenceStore(tmp_path / "evidence"))
    ids = _doc_ids(engine)
    digest = digest_for(engine, datetime.now(UTC) + timedelta(minutes=1), 24, 20, ui_url="https://rw.example.org")
    archives = {item.url.rsplit("/", 1)[-1]: item.archive for s in digest.sections for item in s.items}
    assert archives["1"] == f"https://rw.example.org/documents/{ids['1']}/capture.warc.gz"
    assert "3" not in archives  # no signal: not in the digest at all


def test_retention_lets_go_of_a_document_whose_signals_are_gone(
    engine: Engine, flagger: Flagger, site: LocalSite, tmp_path: Path
) -> None:
    one = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>{title}</title><link>__BASE__/n/1</link><description>{text}</description></item>
</channel></rss>"""
    url = site.add("/rss.xml", one.format(title="Законопроект об ИИ", text=TEXT), content_type="application/rss+xml")
    store = EvidenceStore(tmp_path / "evidence")
    _collect(engine, flagger, url, store)
    site.add("/rss.xml", one.format(title="Погода", text="Солнечно, без осадков."), content_type="application/rss+xml")
    _collect(engine, flagger, url, store)  # a new version without signals: no new capture
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.Signal)) == 0
        [sha] = s.scalars(select(m.Capture.sha256)).all()
        s.execute(update(m.Capture).values(captured_at=datetime.now(UTC) - timedelta(days=40)))
    assert prune(engine, store, 30).captures == 1
    assert not store.path(sha).exists() and _count(engine, m.DocumentCapture) == 0
