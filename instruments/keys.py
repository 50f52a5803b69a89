"""The keys linking compares, as pure functions: an act's number normalised across scripts
(``ЗРУ-1018``, ``ZRU-1018`` and ``ЎРҚ-1018`` are one key), and title keys that survive
inflection and transliteration — ``"<kind>|<subject>"``, the subject found by the terms of
``data/subjects.toml`` in ru/kk/uz (Latin and Cyrillic)/ky/tg/en, and for a portal's own title
also ``"<lang>|<kind>|<stems>"``, its distinctive words' stems (the same title in one
language, however it is quoted)."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SUBJECTS_FILE",
    "Subject",
    "amends",
    "find_subjects",
    "kind_of_number",
    "nearest_subject",
    "normalise",
    "number_key",
    "stems_key",
    "subject_label",
    "subjects",
    "title_keys",
]

SUBJECTS_FILE = Path(__file__).parent / "data" / "subjects.toml"
_APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ’‘`´"})


def normalise(text: str) -> str:
    """Case-folded, one apostrophe, ё as е: what subject terms are matched on."""
    return text.translate(_APOSTROPHES).casefold().replace("ё", "е")


@dataclass(frozen=True)
class Subject:
    name: str
    label: str  # in English: "artificial intelligence"
    patterns: tuple[re.Pattern[str], ...]  # on normalise(text), except the case-kept ones
    exact: tuple[re.Pattern[str], ...]  # on the text as written


def _term_pattern(term: str) -> re.Pattern[str]:
    words = normalise(term).split()
    body = r"[\w'-]*\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w']){body}")


@functools.cache
def subjects(path: Path = SUBJECTS_FILE) -> tuple[Subject, ...]:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    out = []
    for name, table in raw.get("subjects", {}).items():
        terms = [str(t) for t in table.get("terms", [])]
        out.append(
            Subject(
                name,
                str(table.get("label", name.replace("_", " "))),
                tuple(_term_pattern(t) for t in terms if not t.startswith("=")),
                tuple(
                    re.compile(rf"(?<!\w){re.escape(t[1:])}(?!\w)")
                    for t in terms
                    if t.startswith("=")
                ),
            )
        )
    return tuple(out)


def subject_label(name: str) -> str:
    """The subject's English label ("artificial intelligence"); its name when unknown."""
    return next((s.label for s in subjects() if s.name == name), name.replace("_", " "))


def find_subjects(text: str) -> list[tuple[int, str]]:
    """(offset, subject) of every subject term in ``text``, in order."""
    folded = normalise(text)
    found: list[tuple[int, str]] = []
    for subject in subjects():
        found += [(m.start(), subject.name) for p in subject.patterns for m in p.finditer(folded)]
        found += [(m.start(), subject.name) for p in subject.exact for m in p.finditer(text)]
    return sorted(found)


def nearest_subject(text: str, at: int = 0) -> str | None:
    """The subject named nearest offset ``at`` of ``text`` (one after it preferred at equal
    distance: "draft law on artificial intelligence")."""
    found = find_subjects(text)
    if not found:
        return None
    return min(found, key=lambda f: (abs(f[0] - at), f[0] < at))[1]


# A number's prefix names the kind of act (Uzbekistan's numbering), in either script.
_PREFIXES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("зру", "zru", "ўрқ", "o'rq", "orq"), ("zru", "law")),
    **dict.fromkeys(("зрк", "zrk"), ("zrk", "code")),
    **dict.fromkeys(("уп", "пф", "pf", "up", "фп"), ("up", "decree")),
    **dict.fromkeys(("пп", "пқ", "pq", "pp"), ("pp", "resolution")),
    **dict.fromkeys(("пкм", "вмқ", "vmq"), ("pkm", "resolution")),
}
_LOOKALIKE = str.maketrans("іІхХсСоОаАеЕрРтТ", "iIxXcCoOaAeEpPtT")
_NUMBER_TAIL = re.compile(r"^(?:№|no\.?|nr\.?|n)\s*", re.I)


def number_key(number: str | None) -> str | None:
    """``"ЗРУ-1018"`` → ``"zru-1018"``; ``"№ 123-VII ЗРК"`` → ``"123-vii-zrk"``; None for a
    number with no digit."""
    if not number or not re.search(r"\d", number):
        return None
    text = normalise(number).translate(_APOSTROPHES)
    text = _NUMBER_TAIL.sub("", text.strip())
    parts = [p for p in re.split(r"[\s\-–—/.,]+", text) if p]
    out = []
    for p in parts:
        if p in _PREFIXES:
            out.append(_PREFIXES[p][0])
        elif re.fullmatch(r"[ivxlcхс]+", p.translate(_LOOKALIKE).lower()):
            out.append(p.translate(_LOOKALIKE).lower())  # roman numerals in either script
        else:
            out.append(p)
    return "-".join(out) or None


def kind_of_number(number: str | None) -> str | None:
    """The kind a number's prefix implies (``ЗРУ-…`` is a law), if any."""
    if not number:
        return None
    for part in re.split(r"[\s\-–—/.,]+", normalise(number)):
        if part in _PREFIXES:
            return _PREFIXES[part][1]
    return None


# Words of every title that say nothing about which instrument it is.
_STOP_WORDS = """о об и в на по для от к с со а также некоторые законодательные акты акт акты
    республики республика казахстан узбекистан кыргызской кыргызстан таджикистан внесении
    изменений изменения дополнений дополнения вопросам закон закона законе проект кодекс
    указ постановление приказ концепция стратегия программа утверждении
    on the of and to in for a an amendments amendment law draft some legislative acts republic
    kazakhstan uzbekistan kyrgyz tajikistan code decree resolution order concept strategy
    programme program approval
    туралы және заң заңы жобасы қазақстан республикасының енгізу өзгерістер толықтырулар
    haqida qonun qonuni loyihasi to'g'risida o'zbekiston respublikasining va
    тўғрисида қонуни ҳақида мыйзамы жөнүндө дар бораи қонуни лоиҳаи"""
_STOP = frozenset(_STOP_WORDS.split())


def stems_key(title: str, lang: str, kind: str | None) -> str | None:
    """``"<lang>|<kind>|<stems>"``: the title's distinctive words (first six letters each,
    sorted); None when fewer than two are left."""
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*", normalise(title))
    stems = sorted({w[:6] for w in words if len(w) > 3 and w not in _STOP})
    if len(stems) < 2:
        return None
    return f"{lang}|{kind or '?'}|{' '.join(stems[:8])}"


_AMENDS = re.compile(
    r"изменени|дополнени|поправк|amend|өзгеріс|толықтыру|түзету|o'zgartish|qo'shimcha"
    r"|ўзгартиш|қўшимча|өзгөртүү|толуктоо|тағйир|илова"
)


def amends(text: str) -> bool:
    """Whether ``text`` speaks of amendments ("о внесении изменений", "amendments to"): an
    amending act is another instrument than the act it amends or one on the same subject."""
    return bool(_AMENDS.search(normalise(text)))


def title_keys(
    kind: str | None,
    subject: str | None,
    own_title: str | None = None,
    lang: str = "",
    *,
    amending: bool = False,
) -> tuple[str, ...]:
    """Every key a claim carries: ``kind|subject`` (``kind+amend|subject`` for an amending
    act) when both are known, and the stems key of the instrument's own title (a portal's)
    when there is one."""
    keys = []
    if kind and subject:
        keys.append(f"{kind}{'+amend' if amending else ''}|{subject}")
    if own_title and (sk := stems_key(own_title, lang, kind)):
        keys.append(sk)
    return tuple(keys)
