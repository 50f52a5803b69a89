"""The flagger against the team-written demo corpus, whose MANIFEST.md says which articles
are relevant and in what language: every relevant article flagged, no irrelevant one."""

from __future__ import annotations

import re

from config import load_sources
from crawlers.document import Document
from crawlers.extract import article_from_page, decode_html, links_from_listing
from crawlers.feeds import parse_feed
from demo.run import SITE, SOURCES
from nlp import Flagger
from pipeline import language_of

BASE = "http://demo.test"
ROW = re.compile(r"^\| ([a-z-]+) \| ([\w-]+) \| [\d-]+ \| ([\w-]+) \| ([^|]+) \|", re.M)


def manifest() -> dict[str, tuple[str, bool]]:
    text = (SITE / "MANIFEST.md").read_text(encoding="utf-8")
    return {
        ident: (lang.split("-")[0], "yes" in rel) for _src, ident, lang, rel in ROW.findall(text)
    }


def read(url: str) -> bytes:
    return (SITE / url.removeprefix(BASE + "/")).read_bytes().replace(b"__BASE__", BASE.encode())


def corpus() -> list[Document]:
    docs: list[Document] = []
    for src in load_sources(SOURCES, BASE):
        path = SITE / src.url.removeprefix(BASE + "/")
        if not path.exists():
            continue  # the deliberately broken source
        if src.type == "rss":
            docs += parse_feed(read(src.url), src.url, src.name).documents
            continue
        for link in links_from_listing(decode_html(read(src.url)), src.url, src.link_selector):
            art = article_from_page(
                decode_html(read(link)),
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


def ident(doc: Document, ids: dict[str, tuple[str, bool]]) -> str:
    [found] = [i for i in ids if re.search(rf"/{re.escape(i)}(\.html|/|$)", doc.url)]
    return found


def test_demo_corpus_precision_recall_and_language(flagger: Flagger) -> None:
    ids = manifest()
    docs = corpus()
    assert len(docs) == len(ids) >= 40
    missed, false_alarms, wrong_lang = [], [], []
    for doc in docs:
        key = ident(doc, ids)
        lang, relevant = ids[key]
        detected = language_of(doc)
        if detected != lang:
            wrong_lang.append((key, lang, detected))
        strong = [m for m in flagger.flag(doc.title, doc.text, detected) if m.score >= 0.5]
        if relevant and not strong:
            missed.append(key)
        if not relevant and strong:
            false_alarms.append((key, [m.reason for m in strong]))
    assert missed == []
    assert false_alarms == []
    assert wrong_lang == []
