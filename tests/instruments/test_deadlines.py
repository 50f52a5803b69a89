"""Consultation deadlines read from text in every language we read (team-written sentences)."""

from __future__ import annotations

from datetime import date

import pytest

from regwatch.instruments.deadlines import consultation_dates, parse_day

SEEN = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("Общественное обсуждение продлится до 15 декабря.", date(2026, 12, 15)),
        ("Замечания и предложения принимаются до 10.01.2027 включительно.", date(2027, 1, 10)),
        ("Comments are accepted until 15 December 2026.", date(2026, 12, 15)),
        ("Public comments are open until December 4.", date(2026, 12, 4)),
        ("Ұсыныстар 2026 жылғы 15 желтоқсанға дейін қабылданады.", date(2026, 12, 15)),
        ("Takliflar 15-dekabrgacha qabul qilinadi.", date(2026, 12, 15)),
        ("Loyiha muhokamasi 2026-yil 10-dekabrga qadar davom etadi.", date(2026, 12, 10)),
        ("Таклифлар 20 январгача қабул қилинади.", date(2027, 1, 20)),
        ("Сунуштар 15-декабрга чейин кабыл алынат.", date(2026, 12, 15)),
        ("Муҳокимаи ҷамъиятӣ то 15 декабри соли 2026 идома меёбад.", date(2026, 12, 15)),
    ],
)
def test_the_end_of_a_consultation_in_each_language(text: str, end: date) -> None:
    found = consultation_dates(text, SEEN)
    assert found is not None and found.end == end
    assert found.sentence == text


def test_a_range_gives_the_start_too() -> None:
    found = consultation_dates("Обсуждение проходит с 1 по 15 декабря 2026 года.", SEEN)
    assert found is not None and (found.start, found.end) == (date(2026, 12, 1), date(2026, 12, 15))
    found = consultation_dates("Public consultation runs from 20 November to 4 December.", SEEN)
    assert found is not None and (found.start, found.end) == (date(2026, 11, 20), date(2026, 12, 4))


@pytest.mark.parametrize(
    "text",
    [
        "Закон вступит в силу 1 января.",  # a date, but no consultation
        "Обсуждение закончилось 15 ноября.",  # a consultation, but no "until"
        "Comments are accepted until further notice.",
        "Обсуждение продлится до 31 февраля.",  # no such day
    ],
)
def test_no_deadline_where_none_is_stated(text: str) -> None:
    assert consultation_dates(text, SEEN) is None


def test_the_year_comes_from_the_document_date() -> None:
    # a December article about a January deadline: next year
    assert parse_day(20, 1, None, date(2026, 12, 1)) == date(2027, 1, 20)
    assert parse_day(20, 11, None, date(2026, 12, 1)) == date(2026, 11, 20)
    assert parse_day(20, 11, None, None) is None  # no year and nothing to infer it from
