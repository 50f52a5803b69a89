"""Versions compared by article in each language of the region, by paragraph otherwise, and
word by word inside a change. The texts are written by the team in the shape of draft laws."""

from __future__ import annotations

import pytest

from regwatch.web.article_diff import MAX_CHARS, compare, split_articles

HEADINGS = [  # (language, a text with two articles in it)
    ("ru", "Статья 1. Цели\nтекст один\nСтатья 2. Сфера\nтекст два"),
    ("en", "Article 1. Purpose\ntext one\nArticle 2. Scope\ntext two"),
    ("uz-cyrl", "1-модда. Мақсад\nматн бир\n2-модда. Қўлланиш соҳаси\nматн икки"),
    ("uz-latn", "1-modda. Maqsad\nmatn bir\n2-modda. Qo'llanish sohasi\nmatn ikki"),
    ("kk", "1-бап. Мақсаты\nмәтін бір\n2-бап. Қолданылу саласы\nмәтін екі"),
    ("tg", "Моддаи 1. Мақсад\nматни як\nМоддаи 2. Доира\nматни ду"),
    ("ky", "1-берене. Максат\nтекст бир\n2-берене. Колдонуу чөйрөсү\nтекст эки"),
]


@pytest.mark.parametrize(("lang", "text"), HEADINGS, ids=[h[0] for h in HEADINGS])
def test_articles_are_found_in_every_language(lang: str, text: str) -> None:
    found = split_articles(text)
    assert [k for k, _, _ in found] == ["1", "2"]
    first_line = text.splitlines()[0]
    assert found[0][1] == first_line and found[0][2] == "\n".join(text.splitlines()[:2])
    changed = text.replace(text.splitlines()[3], text.splitlines()[3] + " и ещё")
    diff = compare(text, changed)
    assert diff.by_article and diff.unchanged == 1
    [block] = diff.changed
    assert block.status == "changed" and block.key == text.splitlines()[2]
    assert ("и ещё", "add") in [(t.strip(), k) for t, k in block.pieces]


def test_a_reference_inside_a_sentence_is_no_heading() -> None:
    text = "Статья 1. Цели\nкак указано в статье 5 настоящего Закона, и Article 7 of the Code\n"
    assert [k for k, _, _ in split_articles(text)] == ["1"]


def test_renumbered_added_and_removed_articles_keep_their_place() -> None:
    old = "Преамбула.\nСтатья 1. А\nодин\nСтатья 2. Б\nдва\nСтатья 3. В\nтри"
    new = "Преамбула.\nСтатья 1. А\nодин\nСтатья 3. В\nтри, изменено\nСтатья 4. Г\nчетыре"
    diff = compare(old, new)
    assert [(b.key, b.status) for b in diff.blocks] == [
        ("Preamble", "same"),
        ("Статья 1. А", "same"),
        ("Статья 2. Б", "removed"),
        ("Статья 3. В", "changed"),
        ("Статья 4. Г", "added"),
    ]
    changed = diff.blocks[3]
    assert changed.pieces == (("Статья 3. В\nтри", ""), (", изменено", "add"))


def test_without_numbered_articles_paragraphs_are_compared() -> None:
    old = "Первый абзац.\n\nВторой абзац о данных.\n\nТретий абзац."
    new = "Первый абзац.\n\nВторой абзац о персональных данных.\n\nНовый абзац."
    diff = compare(old, new)
    assert not diff.by_article
    assert [(b.key, b.status) for b in diff.changed] == [("¶ 2", "changed"), ("¶ 3", "changed")]
    assert ("персональных ", "add") in diff.changed[0].pieces
    assert diff.changed[1].pieces == (("Третий", "del"), ("Новый", "add"), (" абзац.", ""))


def test_a_text_too_large_is_summarised_not_compared() -> None:
    big = "x" * (MAX_CHARS // 2 + 1)
    diff = compare(big, big + "y")
    assert diff.blocks == () and "too large to compare" in diff.note


def test_the_same_text_has_no_change() -> None:
    text = "Статья 1. А\nодин\nСтатья 2. Б\nдва"
    assert compare(text, text).changed == ()
