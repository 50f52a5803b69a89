"""The one ingest path: dedupe → flag → store. Feed entries and crawled pages alike.

``ingest()`` handles one Document; ``collect_sources()`` polls configured sources, ingests
what they yield and records each source's health and the run's counts. One bad source or
item never stops the others.
"""

from regwatch.pipeline.backtest import BacktestReport, backtest
from regwatch.pipeline.batch import ingest_many, store_batch
from regwatch.pipeline.collect import RunSummary, collect_sources, source_spec
from regwatch.pipeline.imports import import_documents
from regwatch.pipeline.ingest import (
    Flagged,
    IngestResult,
    Outcome,
    Preview,
    flag_document,
    ingest,
    language_of,
    preview,
    store_flagged,
)

__all__ = [
    "BacktestReport",
    "Flagged",
    "IngestResult",
    "Outcome",
    "Preview",
    "RunSummary",
    "backtest",
    "collect_sources",
    "flag_document",
    "import_documents",
    "ingest",
    "ingest_many",
    "language_of",
    "preview",
    "source_spec",
    "store_batch",
    "store_flagged",
]
