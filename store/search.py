"""Full-text search syntax: words, "quoted phrases", AND, OR, NOT and parentheses (adjacent
terms mean AND; NOT binds tighter than AND, AND tighter than OR). A query is parsed into a
tree of normalized terms, then written out for SQLite FTS5 or PostgreSQL tsquery with every
term quoted, so no user text is ever read as search or SQL syntax; the result is passed as a
bound parameter."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from regwatch.errors import QuerySyntaxError

__all__ = [
    "And",
    "Not",
    "Or",
    "Term",
    "parse",
    "terms_of",
    "to_fts5",
    "to_tsquery",
]

Normalize = Callable[[str], list[str]]
MAX_QUERY = 500
MAX_TERMS = 32


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # normalized; more than one is a phrase


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


Node = Term | Not | And | Or

_TOKEN = re.compile(r'\s*(?:(?P<phrase>"[^"]*"?)|(?P<open>\()|(?P<close>\))|(?P<word>[^\s()"]+))')
_OPERATORS = {"AND", "OR", "NOT"}
_LETTERS = re.compile(r"\w")


def _tokens(query: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None:  # pragma: no cover - the pattern matches any non-space run
            raise QuerySyntaxError(f"search: cannot read {query[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        text, at = m.group(kind), m.start(kind) + 1
        if kind == "phrase" and (len(text) < 2 or not text.endswith('"')):
            raise QuerySyntaxError(
                f"search: the phrase starting at character {at} has no closing "
                'quote; close it like "digital security"'
            )
        pos = m.end()
        if kind == "word" and text in _OPERATORS:
            kind = text
        elif kind == "word" and not _LETTERS.search(text):
            continue  # punctuation between words ("a -- b") is not a term
        out.append((kind, text, at))
    return out


def parse(query: str, normalize: Normalize) -> Node:
    """The tree of ``query``; QuerySyntaxError names the problem and the fix."""
    if len(query) > MAX_QUERY:
        raise QuerySyntaxError(f"search: the query is longer than {MAX_QUERY} characters")
    tokens = _tokens(query)
    if not tokens:
        raise QuerySyntaxError('search: the query is empty; type a word or a "phrase"')
    parser = _Parser(tokens, normalize)
    node = parser.expression()
    if parser.pos < len(tokens):
        kind, text, at = tokens[parser.pos]
        hint = "; remove it or add the missing (" if kind == "close" else ""
        raise QuerySyntaxError(f"search: unexpected {text!r} at character {at}{hint}")
    if parser.terms > MAX_TERMS:
        raise QuerySyntaxError(f"search: more than {MAX_TERMS} terms; narrow the query")
    if _only_negative(node):
        raise QuerySyntaxError(
            "search: a query cannot only exclude; add a word to look for, e.g. ИИ NOT спорт"
        )
    return node


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], normalize: Normalize) -> None:
        self.tokens = tokens
        self.pos = 0
        self.normalize = normalize
        self.terms = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def expression(self) -> Node:  # or_expr := and_expr (OR and_expr)*
        node = self.conjunction()
        while self._peek() == "OR":
            self.pos += 1
            node = Or(node, self.conjunction())
        return node

    def conjunction(self) -> Node:  # and_expr := unary ((AND)? unary)*
        node = self.unary()
        while self._peek() in ("AND", "NOT", "word", "phrase", "open"):
            if self._peek() == "AND":
                self.pos += 1
            node = And(node, self.unary())
        return node

    def unary(self) -> Node:
        kind = self._peek()
        if kind == "NOT":
            self.pos += 1
            return Not(self.unary())
        if kind == "open":
            _, _, at = self.tokens[self.pos]
            self.pos += 1
            node = self.expression()
            if self._peek() != "close":
                raise QuerySyntaxError(
                    f"search: the parenthesis at character {at} is not closed; add a )"
                )
            self.pos += 1
            return node
        if kind in ("word", "phrase"):
            _, text, at = self.tokens[self.pos]
            self.pos += 1
            words = tuple(self.normalize(text.strip('"')))
            if not words:
                raise QuerySyntaxError(
                    f"search: {text!r} at character {at} holds no letters or digits"
                )
            self.terms += len(words)
            return Term(words)
        if kind is None:
            raise QuerySyntaxError("search: the query ends too early; add a term after it")
        _, text, at = self.tokens[self.pos]
        raise QuerySyntaxError(
            f"search: {text!r} at character {at} needs a term before it; "
            "quote it to search for the word itself"
        )


def _only_negative(node: Node) -> bool:
    if isinstance(node, Not):
        return True
    if isinstance(node, And):
        return _only_negative(node.left) and _only_negative(node.right)
    if isinstance(node, Or):
        return _only_negative(node.left) or _only_negative(node.right)
    return False


def terms_of(node: Node) -> list[str]:
    """The positive terms (for highlighting)."""
    if isinstance(node, Term):
        return list(node.words)
    if isinstance(node, Not):
        return []
    return terms_of(node.left) + terms_of(node.right)


def _fts5_quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def to_fts5(node: Node) -> str:
    """The FTS5 MATCH expression; NOT becomes FTS5's binary NOT."""
    if isinstance(node, Term):
        return _fts5_quote(" ".join(node.words))
    if isinstance(node, Or):
        return f"({to_fts5(node.left)} OR {to_fts5(node.right)})"
    if isinstance(node, And):
        if isinstance(node.right, Not):
            return f"({to_fts5(node.left)} NOT {to_fts5(node.right.node)})"
        if isinstance(node.left, Not):
            return f"({to_fts5(node.right)} NOT {to_fts5(node.left.node)})"
        return f"({to_fts5(node.left)} AND {to_fts5(node.right)})"
    raise QuerySyntaxError(  # pragma: no cover - parse() refuses a branch that only excludes
        "search: NOT must follow a term it narrows, e.g. ИИ NOT спорт; "
        "(NOT x) OR y cannot be searched"
    )


def _ts_quote(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def to_tsquery(node: Node) -> str:
    """The PostgreSQL tsquery text (for to_tsquery('simple', …)); phrases use <->."""
    if isinstance(node, Term):
        return "(" + " <-> ".join(_ts_quote(w) for w in node.words) + ")"
    if isinstance(node, Not):
        return f"!{to_tsquery(node.node)}"
    if isinstance(node, Or):
        return f"({to_tsquery(node.left)} | {to_tsquery(node.right)})"
    return f"({to_tsquery(node.left)} & {to_tsquery(node.right)})"
