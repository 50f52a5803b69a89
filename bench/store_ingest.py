"""Ingest into the store: documents with their signals written through the pipeline's write
path (``store_batch``: dedupe under the lock, documents, versions, signals with their weekly
counts, full-text index — one transaction per batch of 200, as ``collect`` and ``import``
store), on SQLite and PostgreSQL, against baselines measured in the same run: the same rows
bulk-inserted with executemany in one transaction (the ceiling for any write path), and the
one-document path (``store_batch`` of one, a transaction each). Flagging is done beforehand
(bench/nlp_throughput.py measures it). Target (issue 5): ≥ 2,000 documents/s with their
signals."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from bench.corpus import generate
from bench.store_queries import postgres
from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline import flag_document
from regwatch.pipeline.ingest import BATCH, store_batch
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.documents import Flagged
from regwatch.store.fulltext import index_documents
from regwatch.store.sources import SourceSpec, sync_sources

__all__ = ["main"]


def _source(engine: Engine) -> int:
    with db.session_scope(engine) as s:
        return sync_sources(
            s, [SourceSpec("bench", "https://b/rss", "rss", "kz", ("ru",), "news")]
        )["bench"]


def _bulk(engine: Engine, flagged: list[Flagged], source_id: int) -> None:
    docs: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    for i, f in enumerate(flagged, 1):
        d = f.doc
        docs.append({"id": i, "source_id": source_id, "url": d.url,
                     "canonical_url": d.canonical_url, "title": d.title, "lang": f.lang,
                     "published_at": d.published, "content_hash": d.content_hash,
                     "version": 1})  # fmt: skip
        versions.append({"id": i, "document_id": i, "version": 1, "title": d.title,
                         "text": d.text, "content_hash": d.content_hash,
                         "fetched_at": d.fetched_at})  # fmt: skip
        signals.extend(
            {
                "document_id": i, "version_id": i, "source_id": source_id,
                "mentions": m.mentions_key(x.countries), "category": x.category, "rule": x.rule,
                "field": x.field, "text": x.text, "start": x.start, "end": x.end,
                "sentence": x.sentence, "score": x.score, "reason": x.reason, "lang": f.lang,
                "countries": list(x.countries), "bodies": list(x.bodies),
                "attributes": dict(x.attributes),
            }
            for x in f.matches
        )  # fmt: skip
    with engine.begin() as conn:
        keys = {(r["category"], r["lang"] or "", r["source_id"], r["mentions"]) for r in signals}
        ids = m.combo_ids(conn, keys)
        for r in signals:
            r["combo_id"] = ids[(r["category"], r["lang"] or "", r["source_id"], r["mentions"])]
        conn.execute(insert(m.Document), docs)
        conn.execute(insert(m.DocumentVersion), versions)
        if signals:
            conn.execute(insert(m.Signal), signals)
        index_documents(conn, [(i, f.terms) for i, f in enumerate(flagged, 1)])


def run_engine(name: str, fresh: list[Engine], flagged: list[Flagged]) -> None:
    for engine in fresh:
        db.upgrade(engine)
    bulk_engine, batch_engine, single_engine = fresh
    sid = _source(bulk_engine)
    started = time.perf_counter()
    _bulk(bulk_engine, flagged, sid)
    bulk = len(flagged) / (time.perf_counter() - started)
    _source(batch_engine)
    started = time.perf_counter()
    for i in range(0, len(flagged), BATCH):
        store_batch(batch_engine, flagged[i : i + BATCH])
    ours = len(flagged) / (time.perf_counter() - started)
    _source(single_engine)
    started = time.perf_counter()
    for f in flagged:
        store_batch(single_engine, [f])
    single = len(flagged) / (time.perf_counter() - started)
    n_signals = sum(len(f.matches) for f in flagged)
    verdict = "meets" if ours >= 2000 else "MISSES"
    print(f"ingest ({name}): {len(flagged):,} documents with {n_signals:,} signals")
    print(f"  baseline  bulk executemany, one transaction    : {bulk:8.0f} documents/s")
    print(
        f"  baseline  store_batch of one each, alone       : {single:8.0f} documents/s  "
        f"= {single / bulk:.2f} x bulk"
    )
    print(
        f"  regwatch  store_batch, {BATCH} per transaction    : {ours:8.0f} documents/s  "
        f"= {ours / bulk:.2f} x bulk; {verdict} ≥ 2,000/s"
    )


def main() -> None:
    n = int(os.environ.get("REGWATCH_BENCH_INGEST", "5000"))
    corpus = generate(max(1.0, n * 2.2 / 1000))[:n]
    flagger = Flagger.from_folder()
    flagged = [
        flag_document(flagger, Document(f"https://b.example/{i}", t, x, source="bench"))
        for i, (_lang, t, x) in enumerate(corpus)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engines = [db.make_engine(f"sqlite:///{Path(tmp) / f'{k}.db'}") for k in "abc"]
        run_engine("sqlite", engines, flagged)
        for e in engines:
            e.dispose()
    with postgres() as a, postgres() as b, postgres() as c:
        if a is not None and b is not None and c is not None:
            run_engine("postgresql", [a, b, c], flagged)


if __name__ == "__main__":
    main()
