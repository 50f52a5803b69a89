from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from regwatch.crawlers.feeds import check_xml_safety, parse_feed
from regwatch.errors import FeedError

ROOT = Path(__file__).resolve().parents[2]
CORPORA = Path(os.environ.get("REGWATCH_CORPORA", ROOT.parent / "shared" / "corpora"))

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Минцифры</title><language>ru</language>
<item><title>Законопроект &lt;об ИИ&gt;</title><link>https://gov.kz/news/1?utm_source=rss</link>
<pubDate>Tue, 17 Nov 2026 09:30:00 +0500</pubDate>
<description><![CDATA[<p>Первый абзац.</p><p>Второй <b>абзац</b>.</p><script>alert(1)</script>]]></description>
</item>
<item><title>No link</title><description>text</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>TCA</title>
<entry><id>tag:tca,2026:1</id><title>AI bill</title>
<link href="https://timesca.com/2026/11/ai-bill/"/>
<updated>2026-11-18T10:00:00Z</updated>
<content type="html">&lt;p&gt;Lawmakers advanced a bill.&lt;/p&gt;</content></entry></feed>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rss version="2.0"><channel><title>&b;</title><item><title>&b;</title>
<link>https://x.example/1</link></item></channel></rss>"""


def test_rss_items_become_documents() -> None:
    result = parse_feed(RSS.encode(), "https://gov.kz/rss", "kz-maidd")
    assert result.title == "Минцифры"
    doc, linkless = result.documents
    assert doc.title == "Законопроект <об ИИ>"
    assert doc.text == "Первый абзац.\nВторой абзац."
    assert doc.canonical_url == "https://gov.kz/news/1"
    assert doc.published is not None and doc.published.isoformat() == "2026-11-17T04:30:00+00:00"
    assert doc.lang == "ru" and doc.source == "kz-maidd"
    # Neither guid nor link: kept under the feed's address, known by its content.
    assert (linkless.url, linkless.linked, linkless.guid) == ("https://gov.kz/rss", False, None)
    assert result.skipped == []


def test_atom_entries_become_documents() -> None:
    [doc] = parse_feed(ATOM.encode(), "https://timesca.com/feed", "tca").documents
    assert doc.url == "https://timesca.com/2026/11/ai-bill/"
    assert doc.text == "Lawmakers advanced a bill."


def test_json_feed() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": '
        b'[{"id": "1", "url": "https://j.example/1", "title": "T", "content_text": "Body"}]}'
    )
    [doc] = parse_feed(body, "https://j.example/feed.json", "j", "application/feed+json").documents
    assert (doc.url, doc.title, doc.text) == ("https://j.example/1", "T", "Body")


def test_entity_expansion_is_refused_before_feedparser() -> None:
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(BILLION_LAUGHS, "https://x.example/rss", "x")


def test_malformed_xml_with_entities_is_refused() -> None:
    body = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><rss><channel><item>&a;</item>'
    with pytest.raises(FeedError, match="entities"):
        check_xml_safety(body, "https://x.example/rss")


def test_html_page_is_not_a_feed() -> None:
    body = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>hi</body></html>"
    with pytest.raises(FeedError, match="HTML, not a feed"):
        parse_feed(body, "https://x.example/", "x")


def test_bad_character_references_do_not_lose_the_feed() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>A&#xD800;B&#0;'
        b"&#1114112;</title><link>https://x.example/1</link></item><item><title>ok &#1040;"
        b"</title><link>https://x.example/2</link></item></channel></rss>"
    )
    docs = parse_feed(body, "https://x.example/rss", "x").documents
    assert [d.title for d in docs] == ["A\ufffdB\ufffd\ufffd", "ok А"]


def _corpus_files() -> list[Path]:
    root = CORPORA / "feeds"
    suffixes = (".xml", ".json", ".html", ".html-result")
    return sorted(p for p in root.rglob("*") if p.suffix in suffixes)


_CONTENT_TYPE = re.compile(rb"^Header:\s+Content-type:\s*(\S[^\r\n]*)", re.I | re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
PER_FILE_LIMIT_S = 2.0


def test_public_feed_corpus_parses_or_fails_cleanly() -> None:
    """Every fixture of feedparser's and Miniflux's test suites either yields Documents or a
    FeedError naming the URL — never another exception, never over the per-file limit, never a
    control character or an unencodable surrogate in stored text. (Fixtures that simulate an
    HTTP Content-Type get it, as the fetcher would pass it.)"""
    files = _corpus_files()
    if not files:
        pytest.skip(f"no corpus at {CORPORA}; set REGWATCH_CORPORA to ../shared/corpora")
    parsed = refused = documents = 0
    slowest = (0.0, "")
    for path in files:
        body = path.read_bytes()
        header = _CONTENT_TYPE.search(body[:4096])
        content_type = header.group(1).decode("latin-1").strip() if header else ""
        url = f"https://corpus.example/{path.name}"
        started = time.perf_counter()
        error = ""
        try:
            result = parse_feed(body, url, "c", content_type)
        except FeedError as exc:
            refused += 1
            error, result = str(exc), None
        assert result is not None or (url in error and error.startswith("feeds: ")), (path, error)
        took = time.perf_counter() - started
        slowest = max(slowest, (took, str(path)))
        assert took < PER_FILE_LIMIT_S, (path, took)
        if result is None:
            continue
        parsed += 1
        for doc in result.documents:
            documents += 1
            for field in (doc.title, doc.text):
                assert not _CONTROL.search(field), (path, field[:200])
                field.encode("utf-8")  # no lone surrogates
            assert doc.url.startswith(("http://", "https://")), path
    print(  # shown with -s; the numbers the README quotes
        f"corpus: {len(files)} files, {parsed} parsed ({documents} documents), {refused} refused; "
        f"slowest {slowest[0]:.3f}s ({slowest[1]})"
    )
    assert parsed + refused == len(files) and parsed > len(files) // 2, (parsed, refused)


def test_utf16_entity_bomb_is_refused() -> None:
    body = BILLION_LAUGHS.decode().replace(
        '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
    )
    with pytest.raises(FeedError, match="entities"):
        parse_feed(b"\xff\xfe" + body.encode("utf-16-le"), "https://x.example/rss", "x")


def test_truncated_feed_keeps_items_and_says_so() -> None:
    body = RSS.encode()[: RSS.encode().index(b"<item><title>No link")]
    result = parse_feed(body, "https://gov.kz/rss", "kz-maidd", "application/rss+xml")
    assert len(result.documents) == 1 and result.truncated
    assert result.warnings == [
        "https://gov.kz/rss: feed truncated after 1 complete items; 0 cut item(s) left out"
    ]


@pytest.mark.parametrize(
    "item",
    [
        '{"id": "1", "url": "http://example.com:99999/a", "title": "Bad port"}',
        '{"id": "1", "url": "https://ok.example/1"}',
    ],
)
def test_bad_json_feed_items_are_skipped_with_a_reason(item: str) -> None:
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "items": [' + item + ", "
        '{"id": "2", "url": "https://ok.example/good", "title": "Good"}]}'
    ).encode()
    result = parse_feed(body, "https://j.example/feed.json", "j")
    assert [d.url for d in result.documents] == ["https://ok.example/good"]
    assert len(result.skipped) == 1 and "skipped" in result.skipped[0]


def test_deeply_nested_json_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match="not valid JSON"):
        parse_feed(b"{" + b'"a":[' * 100_000, "https://j.example/feed.json", "j")


def test_out_of_range_date_keeps_the_item_without_a_date() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "https://ok.example/2",'
        b' "title": "T", "date_published": "9999-12-31T23:59:59-05:00"}]}'
    )
    [doc] = parse_feed(body, "https://j.example/feed.json", "j").documents
    assert doc.published is None


def test_feedparser_date_cases_never_cost_an_item() -> None:
    """feedparser's 72 date strings (``date_cases.tsv``) as an item's pubDate: the item is always
    kept; its date is a UTC datetime not in the far future, or none — and none wherever the
    case expects nothing and the string is empty."""
    cases = CORPORA / "feeds" / "feedparser" / "date_cases.tsv"
    if not cases.exists():
        pytest.skip(f"no corpus at {CORPORA}; set REGWATCH_CORPORA to ../shared/corpora")
    lines = cases.read_text(encoding="utf-8").splitlines()[1:]
    assert len(lines) == 72
    limit = datetime.now(UTC) + timedelta(days=2)
    for line in lines:
        _parser, raw, expected = line.split("\t")
        value = json.loads(raw)
        body = (
            '<rss version="2.0"><channel><title>t</title><item><title>x</title>'
            f"<link>https://a.example/1</link><pubDate>{escape(value)}</pubDate></item>"
            "</channel></rss>"
        ).encode()
        [doc] = parse_feed(body, "https://a.example/rss", "c").documents
        if doc.published is not None:
            assert doc.published.tzinfo is not None and doc.published <= limit, value
        if not value.strip():
            assert doc.published is None and json.loads(expected) is None


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be", "utf-32"])
def test_entity_declarations_in_utf32_are_refused(encoding: str) -> None:
    """expat cannot read UTF-32 but feedparser decodes it and expands entities without limit."""
    feed = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + "x" * 1000 + '">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&big;&big;&big;</title>'
        "<link>https://example.org/a</link></item></channel></rss>"
    )
    with pytest.raises(FeedError, match=r"declares (XML )?entities"):
        parse_feed(feed.encode(encoding), "https://example.org/feed", "s")


def test_control_characters_never_reach_urls_titles_or_text() -> None:
    item = {
        "id": "1",
        "url": "https://example.org/a\u0000b\u0001 c",
        "title": "T\u0085\u009b",
        "content_text": "hello \u0080world",
    }
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "F\u007f\u0085",
                       "items": [item]}).encode()  # fmt: skip
    got = parse_feed(body, "https://example.org/feed.json", "s")
    [doc] = got.documents
    assert doc.url == "https://example.org/ab%20c" and doc.title == "T"
    assert doc.text == "hello world" and got.title == "F"
