"""The decisions between crawling and the store: dedupe → flag → what to write.

``ingest()`` is the one way documents get in: it takes a batch (feed entries, crawled pages,
imported documents alike). ``collect_sources()`` polls configured sources, ingests what they
yield and records each source's health and the run's counts; ``import_documents()`` does the
same for JSON Lines. One bad source or item never stops the others.
"""

from regwatch.pipeline.backtest import BacktestReport, backtest
from regwatch.pipeline.collect import RunSummary, collect_sources, source_spec
from regwatch.pipeline.dedupe import IngestResult, Outcome
from regwatch.pipeline.imports import import_documents
from regwatch.pipeline.ingest import Preview, flag_document, ingest, language_of, preview

__all__ = [
    "BacktestReport",
    "IngestResult",
    "Outcome",
    "Preview",
    "RunSummary",
    "backtest",
    "collect_sources",
    "flag_document",
    "import_documents",
    "ingest",
    "language_of",
    "preview",
    "source_spec",
]
