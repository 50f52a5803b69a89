"""The end (and, where stated, the start) of a public consultation, read from text in
ru/en/kk/uz (Latin and Cyrillic)/ky/tg — a pure function.

    «Общественное обсуждение продлится до 15 декабря»            ru: до <date>
    "Comments are accepted until 15 December 2026"                en: until/through/by <date>
    «Ұсыныстар 2026 жылғы 15 желтоқсанға дейін қабылданады»       kk: <date> дейін
    "Takliflar 15-dekabrgacha qabul qilinadi"                     uz: <date>gacha / ga qadar
    «Сунуштар 15-декабрга чейин кабыл алынат»                     ky: <date> чейин
    «Муҳокимаи ҷамъиятӣ то 15 декабри соли 2026 идома меёбад»      tg: то <date>

Only a sentence that speaks of a consultation (discussion, comments, proposals) counts, and
only a date marked "until". A date without a year takes the year of the document's date
(or the next one, when that would put the deadline more than half a year before it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from regwatch.instruments.keys import normalise

__all__ = ["Consultation", "consultation_dates", "parse_day"]


@dataclass(frozen=True)
class Consultation:
    end: date
    start: date | None
    sentence: str


# Month stems in every language, longest first where one is a prefix of another.
_MONTH_STEMS: list[tuple[str, int]] = sorted(
    [
        *((s, 1) for s in ("january", "jan", "январ", "қаңтар", "yanvar", "қаңтар")),
        *((s, 2) for s in ("february", "feb", "феврал", "ақпан", "fevral")),
        *((s, 3) for s in ("march", "mar", "март", "наурыз", "mart")),
        *((s, 4) for s in ("april", "apr", "апрел", "сәуір", "aprel")),
        *((s, 5) for s in ("may", "мая", "май", "мамыр")),
        *((s, 6) for s in ("june", "jun", "июн", "маусым", "iyun")),
        *((s, 7) for s in ("july", "jul", "июл", "шілде", "iyul")),
        *((s, 8) for s in ("august", "aug", "август", "тамыз", "avgust")),
        *((s, 9) for s in ("september", "sep", "сентябр", "қыркүйек", "sentabr", "sentyabr")),
        *((s, 10) for s in ("october", "oct", "октябр", "қазан", "oktabr", "oktyabr")),
        *((s, 11) for s in ("november", "nov", "ноябр", "қараша", "noyabr")),
        *((s, 12) for s in ("december", "dec", "декабр", "желтоқсан", "dekabr")),
    ],
    key=lambda p: -len(p[0]),
)


def _month(word: str) -> int | None:
    for stem, number in _MONTH_STEMS:
        if word.startswith(stem):
            # a three-letter English stem only as the abbreviation or the full name
            if len(stem) == 3 and stem.isascii() and word not in {stem, f"{stem}."}:
                continue
            return number
    return None


# The "until" that marks the end of a period.
_BEFORE = re.compile(
    r"(?:^|[\s(«\"])(?:до|по|то|until|till|through|by|before|no later than|not later than|"
    r"не позднее|to)\s+(?:санаи\s+|the\s+)?$"
)
_SUFFIXED = re.compile(r"(?:gacha|гача)$")  # "15-dekabrgacha"
_AFTER_WORD = re.compile(r"^\s*(?:дейін|дейин|чейин|gacha|гача|ga qadar|га қадар|qadar|қадар)\b")
_FROM = re.compile(r"(?:^|\s)(?:с|from|аз)\s+$")

# A date: "15 декабря 2026", "15-dekabr", "2026 жылғы 15 желтоқсан", "December 15, 2026",
# "15.12.2026".
_WORDY = re.compile(
    r"(?:(?P<y1>\d{4})\s*(?:ж\.|жылғы|жылдын|-?yil(?:ning)?|йил(?:нинг)?|-жылдын|соли)?\s+)?"
    r"(?P<d>\d{1,2})(?:-?(?:chi|inchi|го|е))?[\s-]+(?P<m>[^\W\d_]+(?:'[^\W\d_]+)*)\.?"
    r"(?:,?\s+(?:соли\s+)?(?P<y2>\d{4}))?"
)
_MDY = re.compile(r"(?P<m>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?")
_NUMERIC = re.compile(r"(?<!\d)(?P<d>\d{1,2})\.(?P<mo>\d{1,2})(?:\.(?P<y>\d{4}|\d{2}))?(?!\d)")

_CUES = (
    "обсужден",
    "обсуждени",
    "замечани",
    "предложени",
    "консультац",
    "consultation",
    "comment",
    "feedback",
    "submission",
    "public discussion",
    "талқыла",
    "ұсыныс",
    "ескертпе",
    "muhokama",
    "taklif",
    "fikr",
    "муҳокама",
    "таклиф",
    "талкуу",
    "сунуш",
    "пикир",
    "муҳокима",
    "пешниҳод",
    "мулоҳиза",
)
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=\d))+(?:[.!?]+|$)", re.M)


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    day: int
    month: int
    year: int | None


def _dates(folded: str) -> list[_Found]:
    found: list[_Found] = []
    for m in _WORDY.finditer(folded):
        month = _month(m.group("m"))
        if month is None:
            continue
        year = m.group("y1") or m.group("y2")
        found.append(_Found(m.start(), m.end("m"), int(m.group("d")), month,
                            int(year) if year else None))  # fmt: skip
    for m in _MDY.finditer(folded):
        month = _month(m.group("m"))
        if month is None or any(f.start <= m.start() < f.end for f in found):
            continue
        year = m.group("y")
        found.append(_Found(m.start(), m.end(), int(m.group("d")), month,
                            int(year) if year else None))  # fmt: skip
    for m in _NUMERIC.finditer(folded):
        year = m.group("y")
        full = int(year) + 2000 if year and len(year) == 2 else (int(year) if year else None)
        found.append(_Found(m.start(), m.end(), int(m.group("d")), int(m.group("mo")), full))
    return sorted(found, key=lambda f: f.start)


def parse_day(day: int, month: int, year: int | None, near: date | None) -> date | None:
    """The date, the year inferred from ``near`` when missing; None when impossible."""
    if year is None:
        if near is None:
            return None
        year = near.year
        try:
            if date(year, month, day) < near - timedelta(days=183):
                year += 1
        except ValueError:
            return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def consultation_dates(text: str, published: date | None = None) -> Consultation | None:
    """The first consultation period stated in ``text``: its end (marked "until") and its
    start when the sentence gives a range ("с 1 по 15 декабря", "from 1 to 15 December")."""
    for sm in _SENTENCE.finditer(text):
        sentence = sm.group(0).strip()
        folded = normalise(sentence)
        if not any(cue in folded for cue in _CUES):
            continue
        dates = _dates(folded)
        for i, d in enumerate(dates):
            before, after = folded[: d.start], folded[d.end :]
            until = bool(
                _BEFORE.search(before)
                or _AFTER_WORD.match(after)
                or _SUFFIXED.search(folded[d.start : d.end])
            )
            if not until:
                continue
            year = d.year
            start: date | None = None
            # "с 1 по 15 декабря": a bare day before the "по" — or a full date before it
            rng = re.search(r"(?:с|from|аз)\s+(\d{1,2})\s*(?:-|по|to|until|то)\s+$", before)
            if rng:
                start = parse_day(int(rng.group(1)), d.month, year, published)
            elif i > 0 and _FROM.search(folded[: dates[i - 1].start]):
                prev = dates[i - 1]
                start = parse_day(prev.day, prev.month, prev.year or year, published)
            end = parse_day(d.day, d.month, year, published)
            if end is None:
                continue
            if start is not None and start > end:
                start = None
            return Consultation(end, start, sentence)
    return None
