"""spaCy on one text unit: the pipeline (tokens, sentences, cached lemmas), a PhraseMatcher on
lemmas for every rule's phrases and a Matcher per rule for its token patterns.

The prefilter decides which units come here and which rules' patterns are worth running on
them, and where: tokenizer, sentencizer, lemmas and the PhraseMatcher see the whole unit, as in
a full pass, so sentences, offsets and matches are the same; a rule's token patterns are
matched only on the tokens around the words where the prefilter found their stems (a match
includes one of those words and is no longer than the rule's longest pattern).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from errors import RulesError
from nlp.evidence import Raw
from nlp.rules import RuleSet
from nlp.stems import PATTERNS
from nlp.text import APOSTROPHES, unify_apostrophes

__all__ = ["UnitMatcher"]


class UnitMatcher:
    """Built once from the rules; :meth:`match` per unit."""

    def __init__(self, rules: RuleSet, nlp: Language) -> None:
        self.nlp = nlp
        strings = nlp.vocab.strings
        self._rules = {strings.add(r.id): r for r in rules.rules}  # match id -> rule
        self._phrases = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._patterns: dict[str, Matcher] = {}
        self._reach: dict[str, int | None] = {}  # the most tokens a pattern match can take
        for rule in rules.rules:
            if rule.phrases:
                self._phrases.add(
                    rule.id, list(nlp.pipe(p.translate(APOSTROPHES) for p in rule.phrases))
                )
            if rule.patterns:
                try:
                    matcher = Matcher(nlp.vocab, validate=True)
                    matcher.add(rule.id, [list(p) for p in rule.patterns])
                except (ValueError, KeyError) as exc:
                    raise RulesError(f"rules: rule {rule.id}: bad token pattern: {exc}") from None
                self._patterns[rule.id + PATTERNS] = matcher
                self._reach[rule.id + PATTERNS] = _reach(rule.patterns)

    def match(
        self,
        value: str,
        field: str,
        u0: int,
        u1: int,
        candidates: Mapping[str, Sequence[int]] | None = None,
    ) -> list[Raw]:
        """Every match in ``value[u0:u1]``, offsets into ``value``. With ``candidates`` (label
        -> positions in ``value`` where the prefilter met it), only the token patterns of
        the rules whose pattern label is among them, around those positions."""
        doc = self.nlp(unify_apostrophes(value[u0:u1]))
        found = list(self._phrases(doc)) if len(self._phrases) else []
        starts: list[int] | None = None
        for label, matcher in self._patterns.items():
            if candidates is None:
                found += matcher(doc)
                continue
            if label not in candidates:
                continue
            reach, at = self._reach[label], candidates[label]
            if reach is None or not at:
                found += matcher(doc)
                continue
            if starts is None:
                starts = doc.to_array("IDX").tolist()
            for a, b in _regions(starts, [p - u0 for p in at], reach):
                # a Matcher reports positions in the span it was given
                found += [(key, a + s, a + e) for key, s, e in matcher(doc[a:b])]
        return self._raws(doc, found, field, u0)

    def _raws(self, doc: Doc, found: list[tuple[int, int, int]], field: str, u0: int) -> list[Raw]:
        raws = []
        for key, start, end in found:
            span = doc[start:end]
            sent = span.sent
            raws.append(
                Raw(
                    self._rules[key],
                    field,
                    u0 + span.start_char,
                    u0 + span.end_char,
                    u0 + sent.start_char,
                    u0 + sent.end_char,
                )
            )
        return raws


def _reach(patterns: Sequence[Sequence[Mapping[str, object]]]) -> int | None:
    """The most tokens a match of one of ``patterns`` can take; None if unbounded."""
    longest = 1
    for pattern in patterns:
        for token in pattern:
            op = token.get("OP")
            if op in ("*", "+") or (isinstance(op, str) and "{" in op):
                return None
        longest = max(longest, len(pattern))
    return longest


def _regions(starts: list[int], at: list[int], reach: int) -> list[tuple[int, int]]:
    """Token ranges around the tokens holding the characters ``at`` (token start offsets
    ``starts``): ``reach`` - 1 tokens either side, overlapping ranges merged."""
    regions: list[tuple[int, int]] = []
    for c in sorted(at):
        i = bisect.bisect_right(starts, c) - 1
        a, b = max(0, i - reach + 1), min(len(starts), i + reach)
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], b))
        else:
            regions.append((a, b))
    return regions
