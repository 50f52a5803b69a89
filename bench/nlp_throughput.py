"""Flagging throughput: regwatch's cached-lemma pipeline against spaCy's own pymorphy3
lemmatizer (the baseline), both feeding the same PhraseMatcher, on the demo corpus."""

from __future__ import annotations

import time
from collections.abc import Callable

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from demo.corpus import load_corpus
from nlp import Flagger
from nlp.pipeline import build_nlp

PHRASES = [
    "цифровая безопасность",
    "законопроект",
    "проект постановления",
    "центр искусственного интеллекта",
    "digital security",
    "draft law",
]


def _texts(min_bytes: int) -> list[str]:
    base = [f"{d.title}\n{d.text}" for d in load_corpus()]
    out: list[str] = []
    while sum(len(t.encode()) for t in out) < min_bytes:
        out.extend(base)
    return out


def _baseline_nlp() -> Language:
    nlp = spacy.blank("ru")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "pymorphy3"})
    nlp.initialize()
    return nlp


def _matcher_run(nlp: Language) -> Callable[[str], int]:
    matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
    matcher.add("x", list(nlp.pipe(PHRASES)))
    return lambda text: len(matcher(nlp(text)))


def _rate(run: Callable[[str], int], texts: list[str]) -> tuple[float, int]:
    size = sum(len(t.encode()) for t in texts)
    run(texts[0])  # warm-up: dictionaries loaded, caches primed once
    started = time.perf_counter()
    hits = sum(run(t) for t in texts)
    return size / (time.perf_counter() - started) / 1e6, hits


def main() -> None:
    texts = _texts(2_000_000)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    base, base_hits = _rate(_matcher_run(_baseline_nlp()), texts)
    ours, ours_hits = _rate(_matcher_run(build_nlp()), texts)
    flagger = Flagger.from_folder()
    full, _ = _rate(lambda t: len(flagger.flag("", t)), texts)
    print(f"nlp: {len(texts)} documents, {mb:.1f} MB (demo corpus, repeated)")
    print(
        f"  baseline  spaCy pymorphy3 lemmatizer + PhraseMatcher : {base:6.2f} MB/s "
        f"({base_hits} matches)"
    )
    print(
        f"  regwatch  cached lemma component + PhraseMatcher    : {ours:6.2f} MB/s "
        f"({ours_hits} matches)  ratio {ours / base:.1f}x"
    )
    print(
        f"  regwatch  full Flagger (all rules, context, scores) : {full:6.2f} MB/s "
        f"ratio {full / base:.1f}x"
    )
