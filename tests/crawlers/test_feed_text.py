"""Feeds whose bytes bend the truth: a stray byte, a BOM against the declaration, an empty
body, a feed cut mid-stream — parsed offline, and collected from a real loopback server into
a real store, where the source's health must say what happened."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy
from regwatch.crawlers.decode import decode_text
from regwatch.crawlers.feeds import parse_feed
from regwatch.crawlers.sitemaps import read_sitemap
from regwatch.errors import ExtractError, FeedError
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.queries import source_health
from tests.conftest import LocalSite

TEXT_1 = "Опубликован проект закона о цифровой безопасности и искусственном интеллекте."
TEXT_2 = "Министерство провело совещание по вопросам связи."


def _rss(*items: str, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        "<title>Минцифры</title>" + "".join(items) + "</channel></rss>"
    )


def _item(n: int, text: str, title: str = "Новость") -> str:
    return (
        f"<item><guid>https://gov.example/n/{n}</guid><title>{title} {n}</title>"
        f"<link>https://gov.example/n/{n}</link><description>{text}</description></item>"
    )


# A Russian UTF-8 feed; the second item carries one stray Latin-1 byte (an é typed in cp1252).
STRAY = _rss(_item(1, TEXT_1), _item(2, "Caf\x00 " + TEXT_2)).encode().replace(b"\x00", b"\xe9")


def test_one_stray_byte_costs_one_character_not_the_whole_feed() -> None:
    result = parse_feed(STRAY, "https://gov.example/rss", "s", "application/rss+xml")
    first, second = result.documents
    assert first.text == TEXT_1  # not ĐžĐżŃƒĐąĐťĐ¸ĐşĐžĐ˛Đ°Đ˝ …
    assert second.text == "Caf\ufffd " + TEXT_2
    assert result.warnings == [
        "https://gov.example/rss: 1 bytes were not valid utf-8 and were replaced with U+FFFD; "
        "ask the publisher to fix the feed's encoding"
    ]


def test_replacements_are_counted_byte_by_byte() -> None:
    decoded = decode_text("Опубликован проект ".encode() + b"\xe9\xff and \xc3", "text/xml")
    assert (decoded.text, decoded.replaced) == ("Опубликован проект \ufffd\ufffd and \ufffd", 3)


def test_a_body_mostly_not_in_its_declared_encoding_is_detected_not_replaced() -> None:
    body = _rss(_item(1, TEXT_1), encoding="utf-8").encode("cp1251")  # declared wrong
    result = parse_feed(body, "https://gov.example/rss", "s", "application/rss+xml")
    assert [d.text for d in result.documents] == [TEXT_1] and result.warnings == []


def test_a_declared_single_byte_encoding_is_read_as_declared() -> None:
    body = _rss(_item(1, TEXT_1), encoding="windows-1251").encode("cp1251")
    [doc] = parse_feed(body, "https://gov.example/rss", "s", "application/rss+xml").documents
    assert doc.text == TEXT_1


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_a_byte_order_mark_wins_over_the_declared_encoding(codec: str, bom: bytes) -> None:
    body = bom + _rss(_item(1, TEXT_1), encoding="utf-8").encode(codec)
    result = parse_feed(body, "https://gov.example/rss", "s", "application/rss+xml; charset=utf-8")
    assert [d.text for d in result.documents] == [TEXT_1]
    assert result.warnings == []


@pytest.mark.parametrize("body", [b"", b"   \r\n", b"\xef\xbb\xbf\n"])
def test_an_empty_body_is_an_error(body: bytes) -> None:
    with pytest.raises(FeedError, match="empty body"):
        parse_feed(body, "https://gov.example/rss", "s", "application/rss+xml")
    with pytest.raises(ExtractError, match="empty body"):
        read_sitemap(body.removeprefix(b"\xef\xbb\xbf"), "https://gov.example/sitemap.xml", 1024)


# Cut inside the second item's description, as a dropped connection leaves it.
WHOLE = _rss(_item(1, TEXT_1), _item(2, TEXT_2)).encode()
CUT = WHOLE[: WHOLE.index(TEXT_2.encode()) + 20]


def test_a_feed_cut_mid_item_gives_only_its_complete_items() -> None:
    result = parse_feed(CUT, "https://gov.example/rss", "s", "application/rss+xml")
    assert [d.text for d in result.documents] == [TEXT_1] and result.truncated
    assert "feed truncated after 1 complete items; 1 cut item(s) left out" in result.warnings[0]


def test_a_feed_cut_before_its_first_item_is_an_error() -> None:
    with pytest.raises(FeedError, match="truncated"):
        parse_feed(WHOLE[:60], "https://gov.example/rss", "s", "application/rss+xml")


def _collect(engine: Engine, flagger: Flagger, url: str) -> m.Source:
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    with Fetcher(policy) as fetcher:
        collect_sources(engine, flagger, fetcher, [SourceConfig(name="s", url=url)], force=True)
    with db.session_scope(engine) as s:
        row = s.scalars(select(m.Source)).one()
        s.expunge(row)
        return row


def _texts(engine: Engine) -> dict[str, str]:
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(m.Document.canonical_url, m.DocumentVersion.text).join(
                m.DocumentVersion, m.DocumentVersion.document_id == m.Document.id
            )
        )
        return {url: text for url, text in rows}


def test_collect_reports_replaced_bytes_on_the_source_and_flags_the_text(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    url = site.add("/rss", STRAY, content_type="application/rss+xml; charset=utf-8")
    row = _collect(engine, flagger, url)
    assert row.last_error is None and row.items_last_run == 2
    assert "1 bytes were not valid utf-8" in (row.last_warning or "")
    with db.session_scope(engine) as s:  # what sources list, the web UI and the digest read
        [health] = source_health(s)
        assert health.last_warning == row.last_warning
    with db.session_scope(engine) as s:  # the Russian text is read, so its signals are found
        assert s.scalars(select(m.Signal.category)).all()


def test_collect_records_an_empty_body_as_the_sources_error(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    url = site.add("/rss", b"", content_type="application/rss+xml")
    row = _collect(engine, flagger, url)
    assert row.consecutive_failures == 1 and "empty body" in (row.last_error or "")


def test_a_cut_feed_stores_complete_items_and_never_touches_stored_ones(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    url = site.add("/rss", WHOLE, content_type="application/rss+xml", ETag='"v1"')
    assert _collect(engine, flagger, url).last_warning is None
    before = _texts(engine)
    assert len(before) == 2
    site.add("/rss", CUT, content_type="application/rss+xml", ETag='"v2"')
    row = _collect(engine, flagger, url)
    assert "truncated" in (row.last_warning or "") and row.last_error is None
    assert row.etag is None  # read in full next time, not answered 304
    assert _texts(engine) == before  # the half item did not become an empty version


CORPORA = Path(
    os.environ.get("REGWATCH_CORPORA", Path(__file__).resolve().parents[3] / "shared" / "corpora")
)
MINIFLUX = CORPORA / "feeds" / "miniflux" / "internal" / "reader"
# Mojibake: UTF-8 read as a single-byte code page ("Ã©" for é, "Ð¾" for о), or the reverse.
MOJIBAKE = re.compile("[ÃÐÑ][\u0080-\u00bf]|[ЂЃѓ‚„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—™љ›њќћџ]{2}")


def test_real_world_feeds_that_lie_about_their_encoding_read_clean() -> None:
    """Miniflux's fixtures: windows-1251, KOI8-R and ISO-8859-1 feeds, a feed declaring
    ISO-8859-1 that is UTF-8, one declaring nothing that is ISO-8859-1."""
    files = sorted(MINIFLUX.glob("*/testdata/*.xml"))
    if not files:
        pytest.skip(f"no corpus at {CORPORA}; set REGWATCH_CORPORA to ../shared/corpora")
    read = 0
    for path in files:
        result = parse_feed(path.read_bytes(), f"https://corpus.example/{path.name}", "c")
        text = " ".join(f"{d.title} {d.text}" for d in result.documents)
        assert "\ufffd" not in text and not MOJIBAKE.search(text), (path, text[:200])
        assert result.warnings == [], path
        read += len(result.documents)
    assert read > 200
    cyrillic = parse_feed((MINIFLUX / "xml/testdata/koi8r.xml").read_bytes(), "https://k/", "k")
    assert cyrillic.documents[0].title == "Первая новость"
    latin = (MINIFLUX / "parser/testdata/no_encoding_ISO-8859-1.xml").read_bytes()
    assert "études" in " ".join(d.text for d in parse_feed(latin, "https://l/", "l").documents)
