"""The search syntax: parsing, normalization, and what each engine is handed."""

from __future__ import annotations

import pytest

from regwatch.errors import QuerySyntaxError
from regwatch.nlp.index import search_terms
from regwatch.store.search import (
    And,
    Not,
    Or,
    Term,
    parse,
    terms_of,
    to_fts5,
    to_tsquery,
)


def p(q: str):  # type: ignore[no-untyped-def]
    return parse(q, search_terms)


def test_russian_inflection_and_english_stems_normalize_alike() -> None:
    assert search_terms("цифровой безопасности") == search_terms("Цифровая безопасность")
    assert search_terms("regulations") == search_terms("regulating") == ["regul"]
    assert search_terms("Законопроекта «О ИИ»") == ["законопроект", "о", "ии"]


def test_precedence_and_implicit_and() -> None:
    assert p("ИИ закон OR указ") == Or(And(Term(("ии",)), Term(("закон",))), Term(("указ",)))
    assert p("ИИ AND (закон OR указ)") == And(Term(("ии",)), Or(Term(("закон",)), Term(("указ",))))
    assert p('"цифровой безопасности" NOT спорт') == And(
        Term(("цифровой", "безопасность")), Not(Term(("спорт",)))
    )


def test_engines_get_quoted_terms_only() -> None:
    node = p('"цифровая безопасность" AND (закон OR указ) NOT спорт')
    assert to_fts5(node) == ('(("цифровой безопасность" AND ("закон" OR "указ")) NOT "спорт")')
    assert to_tsquery(node) == (
        "((('цифровой' <-> 'безопасность') & (('закон') | ('указ'))) & !('спорт'))"
    )
    assert terms_of(node) == ["цифровой", "безопасность", "закон", "указ"]


def test_hostile_text_stays_terms() -> None:
    node = p("x'; DROP TABLE signals; -- NEAR(a b) col:val * ^start")
    fts = to_fts5(node)
    assert "DROP" not in fts and ";" not in fts and "NEAR(" not in fts and "col:" not in fts
    assert to_tsquery(p("o'brien")).count("''") == 1


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", "empty"),
        ('"digital security', "no closing quote"),
        ("(ИИ OR закон", "not closed"),
        ("ИИ)", r"unexpected '\)'"),
        ("OR закон", "needs a term before it"),
        ("закон AND", "ends too early"),
        ("NOT спорт", "cannot only exclude"),
        ('"«»"', "holds no letters"),
        ("-- ?", "empty"),
        ("x " * 300, "longer than 500"),
    ],
)
def test_bad_syntax_is_a_clear_error(query: str, error: str) -> None:
    with pytest.raises(QuerySyntaxError, match=error):
        p(query)


@pytest.mark.parametrize("query", ["(NOT спорт) OR закон", "закон OR NOT спорт", "NOT a NOT b"])
def test_a_branch_that_only_excludes_is_refused(query: str) -> None:
    with pytest.raises(QuerySyntaxError, match="cannot only exclude"):
        p(query)
