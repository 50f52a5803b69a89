"""The flagger against the team-written demo corpus, whose MANIFEST.md says which articles
are relevant and in what language: every relevant article flagged, no irrelevant one."""

from __future__ import annotations

import re

from regwatch.crawlers.document import Document
from regwatch.demo.corpus import load_corpus, manifest
from regwatch.nlp import Flagger
from regwatch.pipeline import language_of


def ident(doc: Document, ids: dict[str, tuple[str, bool]]) -> str:
    [found] = [i for i in ids if re.search(rf"/{re.escape(i)}(\.html|/|$)", doc.url)]
    return found


def test_demo_corpus_precision_recall_and_language(flagger: Flagger) -> None:
    ids = manifest()
    docs = load_corpus()
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
