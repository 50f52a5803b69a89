"""The demo's sample articles read straight from ``demo/site`` (no server), through the same
feed parser and HTML extractor as collection — for evaluation and benchmarks."""

from __future__ import annotations

import re

from config import load_sources
from crawlers.document import Document
from crawlers.extract import article_from_page, decode_html, links_from_listing
from crawlers.feeds import parse_feed
from demo.run import SITE, SOURCES

__all__ = ["load_corpus", "manifest"]

BASE = "http://demo.test"
_ROW = re.compile(r"^\| ([a-z-]+) \| ([\w-]+) \| [\d-]+ \| ([\w-]+) \| ([^|]+) \|", re.M)


def manifest() -> dict[str, tuple[str, bool]]:
    """Article id → (language, relevant?) from MANIFEST.md; Uzbek Cyrillic counts as uz."""
    text = (SITE / "MANIFEST.md").read_text(encoding="utf-8")
    return {
        ident: (lang.split("-")[0], "yes" in rel) for _src, ident, lang, rel in _ROW.findall(text)
    }


def _read(url: str) -> bytes:
    return (SITE / url.removeprefix(BASE + "/")).read_bytes().replace(b"__BASE__", BASE.encode())


def load_corpus() -> list[Document]:
    docs: list[Document] = []
    for src in load_sources(SOURCES, BASE):
        if not (SITE / src.url.removeprefix(BASE + "/")).exists():
            continue  # the deliberately broken source
        if src.type == "rss":
            docs += parse_feed(_read(src.url), src.url, src.name).documents
            continue
        for link in links_from_listing(decode_html(_read(src.url)), src.url, src.link_selector):
            art = article_from_page(
                decode_html(_read(link)),
                link,
                title_selector=src.title_selector,
                text_selector=src.text_selector,
                date_selector=src.date_selector,
            )
            docs.append(
                Document(
                    url=link,
                    title=art.title,
                    text=art.text,
                    source=src.name,
                    published=art.published,
                    lang=art.lang,
                )
            )
    return docs
