"""What linking documents to instruments costs ingest: the same flagged documents stored
through the pipeline's write path (``store_batch``, 200 per transaction) with their claims
(the instruments step: candidates, decision, link, titles, events) and, as the baseline in
the same run, with the claims taken off (no instruments step), on SQLite."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path

from bench.corpus import generate
from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline import flag_document
from regwatch.pipeline.ingest import BATCH, store_batch
from regwatch.store import db
from regwatch.store.documents import Flagged
from regwatch.store.sources import SourceSpec, sync_sources

__all__ = ["main"]


def _rate(path: Path, flagged: list[Flagged]) -> float:
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("bench", "https://b/rss", "rss", "kz", ("ru",), "news")])
    started = time.perf_counter()
    for i in range(0, len(flagged), BATCH):
        store_batch(engine, flagged[i : i + BATCH])
    rate = len(flagged) / (time.perf_counter() - started)
    engine.dispose()
    return rate


def main() -> None:
    n = int(os.environ.get("REGWATCH_BENCH_LINK", "3000"))
    corpus = generate(max(1.0, n * 2.2 / 1000), relevant_share=0.3)[:n]
    flagger = Flagger.from_folder(min_score=0.3)
    flagged = [
        flag_document(flagger, Document(f"https://b.example/{i}", t, x, source="bench"))
        for i, (_lang, t, x) in enumerate(corpus)
    ]
    bare = [dataclasses.replace(f, claim=None) for f in flagged]
    claims = sum(1 for f in flagged if f.claim is not None)
    with tempfile.TemporaryDirectory() as tmp:
        without = _rate(Path(tmp) / "a.db", bare)
        with_links = _rate(Path(tmp) / "b.db", flagged)
    print(f"instrument linking in ingest (sqlite): {len(flagged):,} documents, {claims:,} claims")
    print(f"  baseline  store_batch without the instruments step : {without:8.0f} documents/s")
    print(
        f"  regwatch  store_batch with linking                 : {with_links:8.0f} documents/s"
        f"  = {with_links / without:.2f} x baseline"
    )


if __name__ == "__main__":
    main()
