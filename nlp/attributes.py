"""Details of a draft instrument stated in its sentence: number and date (pure regexes)."""

from __future__ import annotations

import re
from datetime import date

__all__ = ["instrument_details"]

_NUMBER = re.compile(
    r"(?:№|(?<!\w)(?:No\.|Nr\.|N)(?=\s?\d))\s*(?P<a>[\w./-]*\d[\w./-]*)"
    r"|\b(?P<b>(?:ПП|УП|ПФ|ПҚ|ПКМ|ЗРУ|ЎРҚ|PF|PQ|PP|ZRU|VMQ)-\d+)\b",
)
_MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ],
            1,
        )
    },
    **{
        m: i
        for i, m in enumerate(
            [
                "января",
                "февраля",
                "марта",
                "апреля",
                "мая",
                "июня",
                "июля",
                "августа",
                "сентября",
                "октября",
                "ноября",
                "декабря",
            ],
            1,
        )
    },
}
_DMY = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_WORDY = re.compile(r"\b(\d{1,2})\s+([A-Za-zА-Яа-я]+)\s+(\d{4})\b")
_MDY = re.compile(r"\b([A-Za-z]+)\s+(\d{1,2}),\s+(\d{4})\b")


def _iso(year: str, month: int | None, day: str) -> str | None:
    if month is None:
        return None
    try:
        return date(int(year), month, int(day)).isoformat()
    except ValueError:
        return None


def _date(sentence: str) -> str | None:
    for m in _DMY.finditer(sentence):
        if found := _iso(m.group(3), int(m.group(2)), m.group(1)):
            return found
    for m in _WORDY.finditer(sentence):
        if found := _iso(m.group(3), _MONTHS.get(m.group(2).lower()), m.group(1)):
            return found
    for m in _MDY.finditer(sentence):
        if found := _iso(m.group(3), _MONTHS.get(m.group(1).lower()), m.group(2)):
            return found
    return None


def instrument_details(instrument: str, stage: str, sentence: str) -> dict[str, str]:
    """``instrument`` and ``stage``, plus ``number`` and ``date`` when the sentence states them."""
    out = {"instrument": instrument, "stage": stage}
    number = _NUMBER.search(sentence)
    if number:
        out["number"] = (number.group("a") or number.group("b")).rstrip(".,")
    when = _date(sentence)
    if when:
        out["date"] = when
    return out
