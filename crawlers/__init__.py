"""Collection: the safe fetcher, feed and HTML extraction, and the Document they produce."""

from regwatch.crawlers.document import Collected, Document, canonical_url, content_hash
from regwatch.crawlers.fetch import Fetcher, FetchPolicy, Response
from regwatch.crawlers.sources import collect

__all__ = [
    "Collected",
    "Document",
    "FetchPolicy",
    "Fetcher",
    "Response",
    "canonical_url",
    "collect",
    "content_hash",
]
