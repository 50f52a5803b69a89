"""`regwatch import FILE.jsonl`: documents from another tool or an archive, one JSON object
per line — ``url``, ``title``, ``text``, optional ``published`` (ISO 8601), ``source``,
``lang``, ``country`` — turned into the same Document crawled items become. A bad line is
reported with its number; the others go on."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from regwatch.config import COUNTRIES, LANGUAGES
from regwatch.crawlers.document import Document
from regwatch.crawlers.extract import known_date_shape

__all__ = ["DEFAULT_SOURCE", "ImportItem", "read_documents"]

DEFAULT_SOURCE = "import"
KEYS = {"url", "title", "text", "published", "source", "lang", "country"}


@dataclass(frozen=True)
class ImportItem:
    document: Document
    source: str
    country: str | None


def read_documents(lines: Iterable[str]) -> Iterator[tuple[int, ImportItem | str]]:
    """(line number, item) for each good line, (line number, error) for each bad one;
    blank lines are skipped."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, _item(line)
        except ValueError as exc:
            yield n, f"line {n}: {exc}"


def _item(line: str) -> ImportItem:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("each line must be one JSON object with url, title and text")
    unknown = sorted(set(obj) - KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (keys: {', '.join(sorted(KEYS))})")
    for key in ("url", "title", "text"):
        if not isinstance(obj.get(key), str):
            raise ValueError(f"{key!r} is missing or not a string")
    for key in ("published", "source", "lang", "country"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"{key!r} must be a string")
    url = obj["url"].strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url {url[:80]!r} must be an http(s) URL")
    if not obj["text"].strip() and not obj["title"].strip():
        raise ValueError("title and text are both empty")
    lang = obj.get("lang") or None
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang {lang!r} is not one of {', '.join(LANGUAGES)}")
    country = obj.get("country") or None
    if country is not None and country not in COUNTRIES:
        raise ValueError(f"country {country!r} is not one of {', '.join(COUNTRIES)}")
    source = (obj.get("source") or DEFAULT_SOURCE).strip()
    if not source or len(source) > 64:
        raise ValueError("source must be a name of 1 to 64 characters")
    doc = Document(
        url=url,
        title=obj["title"],
        text=obj["text"],
        source=source,
        published=_date(obj.get("published")),
        lang=lang,
    )
    return ImportItem(doc, source, country)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        if known_date_shape(value) and value.strip()[:4].isdigit():  # 2025-02-29: unknown
            return None
        raise ValueError(f"published {value[:40]!r} is not an ISO 8601 date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
