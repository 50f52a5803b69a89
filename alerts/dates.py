"""Which date a signal is counted on in the digest's glance table (and, for the web UI's
timeline, the same rule as SQL): the document's published date where it is known and
plausible, else the day regwatch detected it. Articles published over ten days and collected
in one go then spread over those ten days instead of landing on the day of the collection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case

__all__ = ["COUNT_BASIS", "counted_at", "counted_at_sql"]

COUNT_BASIS = "published date (detection date where unknown)"


def counted_at(published_at: datetime | None, detected_at: datetime) -> datetime:
    """The moment a signal counts on: published, unless unknown or after its detection
    (a feed's future or wrong date), then detected."""
    if published_at is None or published_at > detected_at:
        return detected_at
    return published_at


def counted_at_sql(published_at: Any, detected_at: Any) -> Any:
    """:func:`counted_at` as an SQL expression over two columns, e.g.
    ``counted_at_sql(Document.published_at, Signal.detected_at)``, to group or filter by."""
    return case(
        (and_(published_at.is_not(None), published_at <= detected_at), published_at),
        else_=detected_at,
    )
