"""spaCy on one text unit: the pipeline (tokens, sentences, cached lemmas), a PhraseMatcher on
lemmas for every rule's phrases and a Matcher per rule for its token patterns.

The prefilter decides which units come here and which rules' phrases and patterns are worth
matching, and where: the tokenizer sees the whole unit, as in a full pass, so tokens and
offsets are the same; lemmas are set and phrases and patterns matched only on the tokens around
the words where the prefilter found a rule's stems (a match includes one of those words and is
no longer than the rule's longest phrase or pattern); sentence starts are found, by the
sentencizer's rule on token arrays, only in a unit with a match. A full pass (no candidates)
runs the whole pipeline and spaCy's own sentencizer: tests hold the two equal.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from regwatch.errors import RulesError
from regwatch.nlp.components import CachedLemmatizer
from regwatch.nlp.evidence import Raw
from regwatch.nlp.rules import RuleSet
from regwatch.nlp.stems import PATTERNS
from regwatch.nlp.text import APOSTROPHES, matcher_text

__all__ = ["UnitMatcher"]


Region = tuple[int, int]  # a token range [start, end)


class UnitMatcher:
    """Built once from the rules; :meth:`match` per unit."""

    def __init__(self, rules: RuleSet, nlp: Language) -> None:
        self.nlp = nlp
        strings = nlp.vocab.strings
        self._rules = {strings.add(r.id): r for r in rules.rules}  # match id -> rule
        self._phrases = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._patterns: dict[str, Matcher] = {}
        # label -> the most tokens a match can take (None: no bound)
        self._reach: dict[str, int | None] = {}
        sentences_first = False  # a pattern looks at sentence starts: sentences before matching
        for rule in rules.rules:
            if rule.phrases:
                docs = list(nlp.pipe(p.translate(APOSTROPHES) for p in rule.phrases))
                self._phrases.add(rule.id, docs)
                self._reach[rule.id] = max(len(d) for d in docs)
            if rule.patterns:
                try:
                    matcher = Matcher(nlp.vocab, validate=True)
                    matcher.add(rule.id, [list(p) for p in rule.patterns])
                except (ValueError, KeyError) as exc:
                    raise RulesError(f"rules: rule {rule.id}: bad token pattern: {exc}") from None
                self._patterns[rule.id + PATTERNS] = matcher
                self._reach[rule.id + PATTERNS] = _reach(rule.patterns)
                sentences_first |= any(
                    "SENT_START" in str(key).upper() for p in rule.patterns for t in p for key in t
                )
        # the pieces of the pipeline, to run them on part of a unit (the sentencizer's
        # punctuation characters, as hashes; the lemmatizer); any other pipeline runs whole
        self._parts: tuple[set[int], CachedLemmatizer] | None = None
        if nlp.pipe_names == ["sentencizer", "regwatch_lemmatizer"] and not sentences_first:
            sentencizer, lemmatizer = (
                nlp.get_pipe("sentencizer"),
                nlp.get_pipe("regwatch_lemmatizer"),
            )
            if isinstance(sentencizer, Sentencizer) and isinstance(lemmatizer, CachedLemmatizer):
                self._parts = ({strings.add(c) for c in sentencizer.punct_chars}, lemmatizer)

    def match(
        self,
        value: str,
        field: str,
        u0: int,
        u1: int,
        candidates: Mapping[str, Sequence[int]] | None = None,
    ) -> list[Raw]:
        """Every match in ``value[u0:u1]``, offsets into ``value``.

        With ``candidates`` (label -> positions in ``value`` where the prefilter met it), only
        the tokens around those positions are lemmatised and matched, by the phrases of every
        rule and the token patterns of the rules whose pattern label is among them; sentences
        are found only if there is a match."""
        text = matcher_text(value[u0:u1])
        if candidates is None or self._parts is None:
            doc = self.nlp(text)
            whole = [(0, len(doc))]
            found = list(self._phrases(doc)) if len(self._phrases) else []
            for label, matcher in self._patterns.items():
                if candidates is None or label in candidates:
                    found += self._matches(matcher, doc, whole)
            return self._raws(doc, found, field, u0)
        punct, lemmatizer = self._parts
        doc = self.nlp.make_doc(text)
        starts = doc.to_array("IDX").tolist()
        regions = {
            label: _regions(starts, [p - u0 for p in at], self._reach[label])
            for label, at in candidates.items()
        }
        lemmatizer.lemmatize(doc, _merged(*regions.values()))
        found = []
        phrases = _merged(*(r for label, r in regions.items() if not label.endswith(PATTERNS)))
        if phrases and len(self._phrases):
            found += self._matches(self._phrases, doc, phrases)
        for label, where in regions.items():
            if label in self._patterns:
                found += self._matches(self._patterns[label], doc, where)
        if not found:
            return []
        # the sentencizer's rule, on arrays: a sentence starts at the first token, and at each
        # token that is not punctuation after one of its punctuation characters (other
        # punctuation in between); tokens [start, end) span their first start to their last end
        lengths, puncts, orths = doc.to_array(["LENGTH", "IS_PUNCT", "ORTH"]).T.tolist()
        sentences, seen = [0], False
        for i, orth in enumerate(orths):
            if orth in punct:
                seen = True
            elif seen and not puncts[i]:
                sentences.append(i)
                seen = False
        raws = []
        for key, start, end in found:
            k = bisect.bisect_right(sentences, start)
            last = sentences[k] - 1 if k < len(sentences) else len(starts) - 1
            raws.append(
                Raw(
                    self._rules[key],
                    field,
                    u0 + starts[start],
                    u0 + starts[end - 1] + lengths[end - 1],
                    u0 + starts[sentences[k - 1]],
                    u0 + starts[last] + lengths[last],
                )
            )
        return raws

    @staticmethod
    def _matches(
        matcher: Matcher | PhraseMatcher, doc: Doc, regions: list[Region]
    ) -> list[tuple[int, int, int]]:
        if regions == [(0, len(doc))]:
            return list(matcher(doc))
        found = []
        for a, b in regions:
            if isinstance(matcher, PhraseMatcher):  # it reports positions in the Doc
                found += matcher(doc[a:b])
            else:  # a Matcher reports positions in the span it was given
                found += [(key, a + s, a + e) for key, s, e in matcher(doc[a:b])]
        return found

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


def _regions(starts: list[int], at: list[int], reach: int | None) -> list[Region]:
    """Token ranges around the tokens holding the characters ``at`` (token start offsets
    ``starts``): ``reach`` - 1 tokens either side, overlapping ranges merged; the whole unit
    if there is no bound or no position."""
    if reach is None or not at:
        return [(0, len(starts))]
    regions: list[Region] = []
    for c in sorted(at):
        i = bisect.bisect_right(starts, c) - 1
        a, b = max(0, i - reach + 1), min(len(starts), i + reach)
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], b))
        else:
            regions.append((a, b))
    return regions


def _merged(*regions: list[Region]) -> list[Region]:
    """The union of token ranges, as sorted disjoint ranges."""
    out: list[Region] = []
    for a, b in sorted(r for rs in regions for r in rs):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
