"""build_nlp(): the blank multilingual pipeline every document goes through."""

from __future__ import annotations

from typing import Any

import spacy
from spacy.language import Language
from spacy.util import compile_suffix_regex

import regwatch.nlp.components  # noqa: F401  (registers the factories)

__all__ = ["build_nlp"]

FOOTNOTE = r"\[\d{1,3}\]"


def build_nlp() -> Language:
    """Tokenizer for many languages ("xx"), rule-based sentences, cached lemmas.

    spaCy has no language class for kk, uz or tg, so one "xx" pipeline serves all six;
    no statistical model is needed or loaded.
    """
    nlp = spacy.blank("xx")
    # a footnote marker glued to a word and its full stop ("информации.[1]") is its own token,
    # as web pages copied from encyclopaedias print them
    tokenizer: Any = nlp.tokenizer  # spaCy's Tokenizer (compiled, no type stubs)
    suffixes = [*(nlp.Defaults.suffixes or ()), FOOTNOTE]
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("regwatch_lemmatizer")
    return nlp
