"""Cheap per-document language identification: script, letters particular to each language,
and a handful of stopwords. Good enough to route rules; not a per-sentence detector."""

from __future__ import annotations

import re
from itertools import filterfalse

__all__ = ["detect"]

_WORD = re.compile(r"[^\W\d_]+(?:['ʻʼ’`][^\W\d_]+)?")
# letters that (almost) only one of the Cyrillic-script languages uses
_MARKERS = {
    "kk": set("әұһі"),
    "tg": set("ӣӯҷ"),
    "uz": set("ў"),
    "ky": set(),  # ң ө ү without any Kazakh-only letter
}
_SHARED_KK_KY = set("ңөү")
_SHARED_TG_UZ_KK = set("ғқҳ")
_STOP = {
    "en": {"the", "and", "of", "to", "in", "is", "for", "on", "that", "with", "by", "will"},
    "uz": {
        "va",
        "bilan",
        "uchun",
        "bu",
        "ham",
        "bo'yicha",
        "boʻyicha",
        "qilish",
        "hamda",
        "yil",
        "loyihasi",
        "vazirligi",
        "tomonidan",
    },
    "ru": {"и", "в", "на", "не", "что", "по", "с", "для", "о", "от", "это", "как"},
    "kk": {"және", "бойынша", "үшін", "мен", "бұл", "жылы"},
    "tg": {"ва", "дар", "бо", "аз", "барои", "ки", "мебошад", "шуд"},
    "ky": {"жана", "менен", "үчүн", "боюнча", "бул", "кылуу"},
    "uz-cyrl": {"ва", "билан", "учун", "бўйича", "ҳамда", "тўғрисида"},
}


# Letters are counted in the sample's UTF-8 bytes, at C speed (a Python loop over 4,000
# characters cost more than flagging the document): every character of U+0400–U+04FF and no
# other starts with one of the bytes D0–D3, and the bytes a–z stand only for themselves.
_CYRILLIC_LEADS = (b"\xd0", b"\xd1", b"\xd2", b"\xd3")
_NOT_A_TO_Z = bytes(b for b in range(256) if not ord("a") <= b <= ord("z"))
_STOPWORDS = frozenset().union(*_STOP.values())


def detect(text: str) -> str:
    """Return en, ru, kk, ky, tg or uz for ``text``; ``ru`` for short Cyrillic, ``en`` for Latin."""
    sample = text[:4000].lower()
    raw = sample.encode("utf-8", "surrogatepass")
    cyr = sum(map(raw.count, _CYRILLIC_LEADS))
    lat = len(raw.translate(None, _NOT_A_TO_Z))
    words = _stopwords(sample)
    if cyr > lat:
        return _cyrillic(sample, words)
    en = sum(1 for w in words if w in _STOP["en"])
    uz = sum(1 for w in words if w in _STOP["uz"]) + sample.count("oʻ") + sample.count("gʻ")
    uz += sample.count("o'") + sample.count("g'")
    return "uz" if uz > en else "en"


def _stopwords(sample: str) -> list[str]:
    """The words of ``sample`` (``_WORD.findall``) that are stopwords, in no particular order:
    only they are ever counted. A word never spans white space, so the regex reads only the
    pieces between white space that are not all letters; a piece of letters alone is one word
    (the regex's letters are ``str.isalpha`` letters, and numerals such as "²", which
    ``isalpha`` refuses and so send the piece to the regex)."""
    pieces = sample.split()
    found = list(filter(_STOPWORDS.__contains__, filter(str.isalpha, pieces)))
    rest = " ".join(filterfalse(str.isalpha, pieces))
    found += filter(_STOPWORDS.__contains__, _WORD.findall(rest))
    return found


def _cyrillic(sample: str, words: list[str]) -> str:
    scores = {lang: sum(sample.count(ch) for ch in chars) * 3 for lang, chars in _MARKERS.items()}
    shared_kk_ky = sum(sample.count(ch) for ch in _SHARED_KK_KY)
    shared = sum(sample.count(ch) for ch in _SHARED_TG_UZ_KK)
    for lang in ("kk", "ky", "tg"):
        scores[lang] += sum(2 for w in words if w in _STOP[lang])
    scores["uz"] += sum(2 for w in words if w in _STOP["uz-cyrl"])
    if shared_kk_ky and scores["kk"] == 0:
        scores["ky"] += shared_kk_ky
    if shared and max(scores.values()) > 0:
        best = max(scores, key=lambda k: scores[k])
        scores[best] += shared
    best = max(scores, key=lambda k: scores[k])
    ru = sum(1 for w in words if w in _STOP["ru"])
    if scores[best] == 0 or scores[best] < ru // 2:
        return "ru"
    return best
