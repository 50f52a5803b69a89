"""What changed between two versions of an instrument's text: by article when the text has
numbered articles (in every language of the region: «Статья 5», "Article 5", «5-модда» /
"5-modda", «5-бап», «Моддаи 5», «5-берене»), else by paragraph; inside a changed article or
paragraph, word by word (difflib).

    compare(old, new) -> TextDiff: blocks in the new text's order (a removed one where it
    stood), each same | changed | added | removed, its text as (piece, kind) pairs where kind
    is "" (kept), "add" or "del".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = ["ARTICLE", "Block", "TextDiff", "compare", "split_articles"]

MAX_CHARS = 400_000  # beyond this the change is summarised, not compared

# A heading at the start of a line: the number before or after the word.
ARTICLE = re.compile(
    r"^[ \t]*(?:"
    r"(?P<word>Статья|Article|Моддаи|Modda(?:si)?)[ \t]+(?P<n1>\d+(?:[-.]\d+)*)"
    r"|(?P<n2>\d+(?:[-.]\d+)*)[ \t]*-[ \t]*(?P<suffix>модда|modda|бап|берене|статья)"
    r")(?![\w-])",
    re.M | re.I,
)
_WORDS = re.compile(r"\w+|\s+|[^\w\s]+")


@dataclass(frozen=True)
class Block:
    key: str  # "Статья 5" as the newer text heads it, or "¶ 3"
    status: str  # same | changed | added | removed
    pieces: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TextDiff:
    by_article: bool
    blocks: tuple[Block, ...]
    note: str = ""

    @property
    def changed(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.status != "same")

    @property
    def unchanged(self) -> int:
        return sum(1 for b in self.blocks if b.status == "same")


def split_articles(text: str) -> list[tuple[str, str, str]]:
    """(number, heading, text) per article, in order; text before the first heading is the
    article "" ("Preamble"). A repeated number keeps its own entry ("5", "5#2")."""
    found = list(ARTICLE.finditer(text))
    out: list[tuple[str, str, str]] = []
    if not found:
        return out
    head = text[: found[0].start()].strip()
    if head:
        out.append(("", "Preamble", head))
    seen: dict[str, int] = {}
    for i, m in enumerate(found):
        number = m.group("n1") or m.group("n2")
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        body = text[m.start() : end].strip()
        heading = body.splitlines()[0].strip()
        seen[number] = seen.get(number, 0) + 1
        key = number if seen[number] == 1 else f"{number}#{seen[number]}"
        out.append((key, heading, body))
    return out


def _words(old: str, new: str) -> tuple[tuple[str, str], ...]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    pieces: list[tuple[str, str]] = []

    def put(text: str, kind: str) -> None:
        if pieces and pieces[-1][1] == kind:
            pieces[-1] = (pieces[-1][0] + text, kind)
        elif text:
            pieces.append((text, kind))

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            put("".join(a[i1:i2]), "")
            continue
        if op in ("replace", "delete"):
            put("".join(a[i1:i2]), "del")
        if op in ("replace", "insert"):
            put("".join(b[j1:j2]), "add")
    return tuple(pieces)


def _pair(key: str, old: str | None, new: str | None) -> Block:
    if old is None:
        return Block(key, "added", ((new or "", "add"),))
    if new is None:
        return Block(key, "removed", ((old, "del"),))
    if old == new:
        return Block(key, "same", ((new, ""),))
    return Block(key, "changed", _words(old, new))


def _by_article(old: str, new: str) -> tuple[Block, ...]:
    a = {k: (h, t) for k, h, t in split_articles(old)}
    b = split_articles(new)
    b_keys = {k for k, _, _ in b}
    blocks: list[Block] = []
    old_order = list(a)
    for key, heading, body in b:
        # removed articles that stood before this one in the old text go here
        while old_order and old_order[0] not in b_keys:
            gone = old_order.pop(0)
            blocks.append(_pair(a[gone][0], a[gone][1], None))
        if old_order and old_order[0] == key:
            old_order.pop(0)
        elif key in old_order:
            old_order.remove(key)
        blocks.append(_pair(heading, a[key][1] if key in a else None, body))
    for gone in old_order:
        blocks.append(_pair(a[gone][0], a[gone][1], None))
    return tuple(blocks)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def _by_paragraph(old: str, new: str) -> tuple[Block, ...]:
    a, b = _paragraphs(old), _paragraphs(new)
    blocks: list[Block] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            blocks.extend(_pair(f"¶ {j + 1}", b[j], b[j]) for j in range(j1, j2))
            continue
        olds, news = a[i1:i2], b[j1:j2]
        paired = min(len(olds), len(news)) if op == "replace" else 0
        for k in range(paired):
            blocks.append(_pair(f"¶ {j1 + k + 1}", olds[k], news[k]))
        for k, p in enumerate(olds[paired:], paired):
            blocks.append(_pair(f"¶ {i1 + k + 1} (old)", p, None))
        for k, p in enumerate(news[paired:], paired):
            blocks.append(_pair(f"¶ {j1 + k + 1}", None, p))
    return tuple(blocks)


def compare(old: str, new: str) -> TextDiff:
    """``old`` → ``new`` by article when either text has two numbered articles or more."""
    if len(old) + len(new) > MAX_CHARS:
        return TextDiff(
            False, (), f"too large to compare here ({len(old):,} → {len(new):,} characters)"
        )
    articles = max(len(ARTICLE.findall(old)), len(ARTICLE.findall(new)))
    if articles >= 2:
        return TextDiff(True, _by_article(old, new))
    return TextDiff(False, _by_paragraph(old, new))
