"""Automatic main-text extraction for article pages without configured selectors (trafilatura).

Pure: HTML in, title/text/date out; trafilatura never fetches anything here (it gets a str).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import trafilatura

__all__ = ["MainText", "main_text"]

# trafilatura logs every page it cannot make sense of at WARNING; those are ExtractErrors here.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


MIN_LETTERS = 20
# trafilatura's time grows with the page (a 5 MB page of paragraphs took ~30 s, 1 MB ~2.5 s):
# automatic extraction reads the first MAX_HTML_CHARS of a page; a real article's text is
# near its start. A source with giant pages should set its selectors.
MAX_HTML_CHARS = 1_000_000


@dataclass(frozen=True)
class MainText:
    title: str
    text: str
    published: datetime | None


def main_text(html: str, url: str) -> MainText | None:
    """The page's main text, title and publication date, or None when nothing is found."""
    try:
        doc = trafilatura.bare_extraction(
            html[:MAX_HTML_CHARS],
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_recall=True,
        )
    except (ValueError, TypeError, RecursionError):  # unparseable markup
        return None
    if doc is None or isinstance(doc, dict):
        return None
    title = " ".join(str(doc.title or "").split())
    text = str(doc.text or "").strip()
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()) == title:  # the headline repeated as the first line
        text = rest.strip()
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:  # a menu or a stray link, not an article
        text = ""
    return MainText(title=title, text=text, published=_date(doc.date))


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return None if when > datetime.now(UTC) + timedelta(days=2) else when
