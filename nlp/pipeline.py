"""build_nlp(): the blank multilingual pipeline every document goes through."""

from __future__ import annotations

import spacy
from spacy.language import Language

import regwatch.nlp.components  # noqa: F401  (registers the factories)

__all__ = ["build_nlp"]


def build_nlp() -> Language:
    """Tokenizer for many languages ("xx"), rule-based sentences, cached lemmas.

    spaCy has no language class for kk, uz or tg, so one "xx" pipeline serves all six;
    no statistical model is needed or loaded.
    """
    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("regwatch_lemmatizer")
    return nlp
