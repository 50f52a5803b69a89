from __future__ import annotations

from datetime import UTC, datetime

import pytest

from regwatch.crawlers.imports import ImportItem, read_documents


def test_good_line_becomes_a_document() -> None:
    line = (
        '{"url": "https://gov.kz/n/1", "title": "Законопроект", "text": "Текст", '
        '"published": "2026-11-20T10:00:00+05:00", "source": "archive", "lang": "ru", '
        '"country": "kz"}'
    )
    [(n, item)] = list(read_documents([line]))
    assert n == 1 and isinstance(item, ImportItem)
    assert item.source == "archive" and item.country == "kz"
    assert item.document.published == datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    assert item.document.lang == "ru" and item.document.canonical_url == "https://gov.kz/n/1"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"url": "https://x/1", "title": "t"}', "'text' is missing"),
        ('{"url": "javascript:x", "title": "t", "text": "x"}', "must be an http"),
        ('{"url": "https://x/1", "title": "t", "text": "x", "lang": "fr"}', "lang 'fr'"),
        ('{"url": "https://x/1", "title": "t", "text": "x", "country": "ru"}', "country 'ru'"),
        ('{"url": "https://x/1", "title": "t", "text": "x", "published": "yesterday"}', "ISO 8601"),
        ('{"url": "https://x/1", "title": "t", "text": "x", "body": "?"}', "unknown key 'body'"),
        ('{"url": "https://x/1", "title": "", "text": " "}', "both empty"),
        ('{"url": "https://x/1", "title": 5, "text": "x"}', "'title' is missing or not a string"),
    ],
)
def test_bad_lines_are_reported_with_their_number(line: str, error: str) -> None:
    good = '{"url": "https://x/2", "title": "t", "text": "x"}'
    out = list(read_documents([good, line, "", good]))
    assert [n for n, _ in out] == [1, 2, 4]
    assert isinstance(out[1][1], str) and out[1][1].startswith("line 2: ") and error in out[1][1]
    assert isinstance(out[2][1], ImportItem) and out[2][1].source == "import"
