from __future__ import annotations

from datetime import UTC, datetime

from regwatch.crawlers.document import Document, canonical_url, clean_text, content_hash


def test_canonical_url_drops_noise() -> None:
    a = canonical_url("HTTPS://Gov.UZ:443/digital/news?utm_source=tg&id=5&a=1#top")
    b = canonical_url("https://gov.uz/digital/news?a=1&id=5&fbclid=xyz")
    assert a == b == "https://gov.uz/digital/news?a=1&id=5"


def test_canonical_url_keeps_real_ports() -> None:
    assert canonical_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/x"


def test_clean_text_removes_controls_and_nul() -> None:
    assert clean_text("a\x00b\x07c\r\n\r\n\r\n  d\u200b ") == "abc\n\nd"


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Title", "Some  text\n") == content_hash("title", "some text")
    assert content_hash("Title", "Some text") != content_hash("Title", "Other text")


def test_document_normalises_fields() -> None:
    d = Document(
        url="https://x.kz/a",
        title="Line\none",
        text="t\x00",
        source="s",
        published=datetime(2026, 11, 1, 12, 0),
    )
    assert d.title == "Line one" and d.text == "t"
    assert d.published is not None and d.published.tzinfo == UTC
