"""Text as the prefilter and the matchers see it: folding (case, ё, apostrophes), the
same-length "spaced" form the Aho-Corasick scans run on, and units (paragraphs, long ones cut
at sentence ends) — every function keeps character offsets."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "APOSTROPHES",
    "MAX_UNIT",
    "field_units",
    "fold",
    "matcher_text",
    "scrub_surrogates",
    "spaced",
    "split_units",
    "unify_apostrophes",
]

# Apostrophe look-alikes in Uzbek Latin ("sunʼiy", "oʻzbek") fold one-for-one: offsets hold.
APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ’‘`´"})
_FOLD = str.maketrans({**{c: "'" for c in "ʻʼ’‘`´"}, "ё": "е"})
_NEEDS_FOLD = re.compile("[ё" + "ʻʼ’‘`´" + "]")
MAX_UNIT = 20_000  # characters handed to spaCy at once; far below its max_length

_APOSTROPHE_LIKE = "ʻʼ’‘`´"
# every other non-alphanumeric character becomes a space: ASCII ones by byte translation,
# frequent others by replace, anything left by the (slower, exact) regex
_ASCII_SPACING = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not c.isalnum() and c != "'"}
)
_BYTE_SPACING = bytes(
    b if b >= 128 or chr(b).isalnum() or b == ord("'") else ord(" ") for b in range(256)
)
_FREQUENT_NON_ASCII = "\u00a0«»—–…“”„№•·\u2009\u202f\u200b"
_NON_WORD = re.compile(r"[^\w' ]|_")
_OPENING_QUOTE = re.compile(r"(?<![^\W_])'")


def spaced(text: str) -> str:
    """:func:`fold`, with every other non-alphanumeric character turned into a space — so a
    stem keyed with a leading space is found only where a word starts. Same length.

    Built from C-level string operations; a per-character translation table (or one regex
    over every character) was the slowest step of the prefilter."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two code points: fold char by char instead
        low = "".join(c.lower()[:1] or c for c in text)
    for c in _APOSTROPHE_LIKE:  # ʻ and ʼ are letters to Unicode; all of them fold to '
        if c in low:
            low = low.replace(c, "'")
    if low.isascii():
        low = low.translate(_ASCII_SPACING)  # CPython's fast path for ASCII strings
    else:
        if "ё" in low:
            low = low.replace("ё", "е")
        low = (
            low.encode("utf-8", "surrogatepass")
            .translate(_BYTE_SPACING)
            .decode("utf-8", "surrogatepass")
        )
        for c in _FREQUENT_NON_ASCII:
            if c in low:
                low = low.replace(c, " ")
        if not low.replace(" ", "").replace("'", "").isalnum():
            low = _NON_WORD.sub(" ", low)  # rarer separators, symbols, emoji
    # an apostrophe that does not follow a letter opens a quote, not a word ("‘digital")
    if "'" in low and (low[0] == "'" or " '" in low or "''" in low):
        low = _OPENING_QUOTE.sub(" ", low)
    return low


def unify_apostrophes(text: str) -> str:
    """``text.translate(APOSTROPHES)``, by ``str.replace`` (translate is slow on non-ASCII)."""
    for c in _APOSTROPHE_LIKE:
        if c in text:
            text = text.replace(c, "'")
    return text


def fold(text: str) -> str:
    """Lowercase, ё→е, apostrophes unified — always the same length as ``text``."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two code points: fold char by char instead
        low = "".join(c.lower()[:1] or c for c in text)
    return low.translate(_FOLD) if _NEEDS_FOLD.search(low) else low


_TERMINAL = frozenset(".!?…:;")


def _continues(text: str, end: int) -> bool:
    """Whether the line break at ``end`` sits inside a sentence: a hard-wrapped line — the
    line before it has words and no terminal punctuation, the next starts in lower case."""
    nxt = end + 1
    while nxt < len(text) and text[nxt] in " \t":
        nxt += 1
    if nxt >= len(text) or not text[nxt].islower():
        return False
    last = end - 1
    while last >= 0 and text[last] in " \t\r":
        last -= 1
    return last >= 0 and text[last] != "\n" and text[last] not in _TERMINAL


def split_units(text: str, max_len: int = MAX_UNIT) -> list[tuple[int, int]]:
    """Paragraphs as (start, end); a paragraph longer than ``max_len`` is cut at the last
    sentence end (or space) before the limit. Sentences never cross a unit boundary.

    A line break inside a sentence (a hard-wrapped line: no terminal punctuation before it,
    lower case after it) does not end the unit; the matchers read it as a space."""
    units: list[tuple[int, int]] = []
    pos = 0
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        start, end = pos, pos + len(lines[k])
        while k + 1 < len(lines) and _continues(text, end):
            k += 1
            end += 1 + len(lines[k])
        k += 1
        pos = end + 1
        while end - start > max_len:
            window = text[start : start + max_len]
            cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
            if cut < max_len // 2:
                cut = max(window.rfind(" "), window.rfind("\t"), window.rfind("\n"))
            if cut <= 0:  # no space in 20,000 characters: not text; skip to the next space
                later = [
                    i
                    for i in (
                        text.find(" ", start + max_len, end),
                        text.find("\t", start + max_len, end),
                        text.find("\n", start + max_len, end),
                    )
                    if i >= 0
                ]
                start = min(later, default=end)
                continue
            units.append((start, start + cut + 1))
            start = start + cut + 1
        if text[start:end].strip():
            units.append((start, end))
    return units


def field_units(values: Sequence[str], max_len: int = MAX_UNIT) -> list[tuple[int, int]]:
    """:func:`split_units` of ``"\n".join(values)``, no unit crossing from one value into
    the next (a title without a full stop does not run on into its text)."""
    units: list[tuple[int, int]] = []
    base = 0
    for value in values:
        units += [(base + a, base + b) for a, b in split_units(value, max_len)]
        base += len(value) + 1
    return units


def matcher_text(text: str) -> str:
    """A unit as the tokenizer gets it: apostrophes unified, the line breaks of hard-wrapped
    lines read as spaces. Same length."""
    text = unify_apostrophes(text)
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub_surrogates(text: str) -> str:
    """Lone surrogates (from broken decoders) become U+FFFD, one for one: offsets hold."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")  # a C-speed test: only a lone surrogate cannot be encoded
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
