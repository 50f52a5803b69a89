"""Flag a document: find every rule's matches on lemmas and token patterns, weigh context,
and keep the evidence (matched text, offsets, sentence, score and reason, countries and
bodies, and for draft instruments their type, stage, number and date).

Text is handled in units (paragraphs, long ones cut at sentence ends), so a 2-million-character
page never reaches spaCy whole. With ``prefilter`` (the default) only units holding every stem
of some rule go through spaCy; context, exclusions and the gazetteer are matched by stem.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from errors import RulesError
from nlp.attributes import instrument_details
from nlp.components import CachedLemmatizer
from nlp.langid import detect
from nlp.pipeline import build_nlp
from nlp.prefilter import Hits, TermSet, TriggerIndex
from nlp.rules import TWO_COUNTRIES, Rule, RuleSet, load_rules
from nlp.stems import (
    Requirement,
    pattern_guards,
    pattern_requirement,
    phrase_guards,
    phrase_requirement,
)
from nlp.terms import Occurrences, TermMatcher
from nlp.text import APOSTROPHES, scrub_surrogates, spaced, split_units, unify_apostrophes

__all__ = ["Flagger", "Match"]

FIELDS = ("title", "text")


@dataclass(frozen=True)
class Match:
    category: str
    rule: str
    field: str  # "title" or "text"
    text: str
    start: int
    end: int
    sentence: str
    score: float
    reason: str
    lang: str
    countries: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    attributes: dict[str, str] = dataclasses.field(default_factory=dict)


# The prefilter's label for a rule's token patterns (its phrases are labelled by the rule id):
# the rule's Matcher runs only where one of its patterns may match.
PATTERNS = "#patterns"

# A hostile page repeating one phrase 70,000 times yields evidence for the first 100.
MAX_MATCHES_PER_RULE = 100


class _DocContext:
    """A document's term occurrences, with the document-wide label sets computed once."""

    def __init__(self, occ: dict[str, Occurrences]) -> None:
        self.occ = occ
        self.own: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._everywhere: set[str] | None = None
        self._outside: dict[str, set[str]] = {}

    def everywhere(self) -> set[str]:
        if self._everywhere is None:
            self._everywhere = self.occ["title"].labels() | self.occ["text"].labels()
        return self._everywhere

    def outside(self, rule: Rule) -> set[str]:
        """Labels found outside the rule's own matches (inside them too for self_context)."""
        if rule.self_context:
            return self.everywhere()
        if rule.id not in self._outside:
            self._outside[rule.id] = set().union(
                *(self.occ[f].labels(skip=self.own.get((rule.id, f), ())) for f in FIELDS)
            )
        return self._outside[rule.id]


@dataclass(frozen=True)
class _Raw:
    rule: Rule
    field: str
    start: int
    end: int
    sent_start: int
    sent_end: int


class Flagger:
    """Holds the pipeline and compiled rules; build once, call :meth:`flag` per document."""

    def __init__(self, rules: RuleSet, *, nlp: Language | None = None, min_score: float = 0.0):
        self.rules = rules
        self.min_score = min_score
        self.nlp = nlp or build_nlp()
        self._by_id: dict[str, Rule] = {r.id: r for r in rules.rules}
        self._phrases = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._patterns: dict[str, Matcher] = {}
        triggers: list[tuple[str, Requirement]] = []
        guards: dict[str, set[str]] = defaultdict(set)
        unguarded: set[str] = set()
        for rule in rules.rules:
            if rule.phrases:
                self._phrases.add(
                    rule.id, list(self.nlp.pipe(p.translate(APOSTROPHES) for p in rule.phrases))
                )
                for p in rule.phrases:
                    req = phrase_requirement(p, whole_words=True)
                    triggers.append((rule.id, req))
                    _merge_guards(req, *phrase_guards(p), guards, unguarded)
            if rule.patterns:
                try:
                    self._patterns[rule.id] = Matcher(self.nlp.vocab, validate=True)
                    self._patterns[rule.id].add(rule.id, [list(p) for p in rule.patterns])
                except (ValueError, KeyError) as exc:
                    raise RulesError(f"rules: rule {rule.id}: bad token pattern: {exc}") from None
                for pattern in rule.patterns:
                    req = pattern_requirement(pattern)
                    triggers.append((rule.id + PATTERNS, req))
                    _merge_guards(req, pattern_guards(pattern), set(), guards, unguarded)
        self._triggers = TermSet(triggers)
        # context that may be present (by stem): a rule that needs context it cannot find
        # in the document is not worth running spaCy for
        self._maybe_context = TermSet(
            (
                (label, phrase_requirement(term))
                for label, terms in _all_context(rules).items()
                for term in terms
            ),
            ordered=False,
        )
        # one scan finds the stems of both
        unguarded |= self._maybe_context.stems  # context is matched by stem, not by lemma
        self._index = TriggerIndex(
            self._triggers.stems | self._maybe_context.stems,
            {s: frozenset(lemmas) for s, lemmas in guards.items() if s not in unguarded},
        )
        terms: list[tuple[str, str]] = []
        for label, phrases in _all_context(rules).items():
            terms += [(f"ctx:{label}", t) for t in phrases]
        for r in rules.rules:
            terms += [(f"ex:{r.id}", t) for t in r.exclude]
        for code, names in rules.countries.items():
            terms += [(f"country:{code}", n) for n in names]
        for b in rules.bodies:
            terms += [(f"body:{b.id}", n) for n in b.names]
        for st in rules.stages:
            terms += [(f"stage:{st.name}", t) for t in st.terms]
        self._terms = TermMatcher(terms)
        self._body_country = {b.id: b.country for b in rules.bodies}
        self._possible_cache: dict[frozenset[str], set[str]] = {}
        self._context_labels = {
            r.id: frozenset(f"ctx:{c}" for c in rules.context_phrases(r)) for r in rules.rules
        }
        self._required_labels = {
            r.id: frozenset(f"ctx:{c}" for c in rules.context_phrases(r, r.requires))
            for r in rules.rules
        }
        # the most tokens a match can take (None: some pattern has no bound)
        self._longest_match = _longest_match(self._phrases, rules, self.nlp)
        self._regions_ok = (
            self._longest_match is not None
            and self.nlp.pipe_names == ["sentencizer", "regwatch_lemmatizer"]
            and isinstance(self.nlp.get_pipe("regwatch_lemmatizer"), CachedLemmatizer)
        )

    @classmethod
    def from_folder(cls, folder: Path | str | None = None, min_score: float = 0.0) -> Flagger:
        return cls(load_rules(folder), min_score=min_score)

    # ------------------------------------------------------------------ matching

    def flag(
        self, title: str, text: str, lang: str | None = None, *, prefilter: bool = True
    ) -> list[Match]:
        """All signals in a document's title and text, best first within a category."""
        fields = {"title": scrub_surrogates(title), "text": scrub_surrogates(text)}
        if prefilter:
            folded = {name: spaced(value) for name, value in fields.items()}
            hits = {name: self._index.scan(text) for name, text in folded.items()}
            worth = self._worth(hits)
            if worth:  # a second look, with the words of guarded stems checked
                guarded = {n: self._index.guard(hits[n], folded[n], v) for n, v in fields.items()}
                if any(guarded[n] is not hits[n] for n in fields):
                    # context stems have no guards: the same rules are possible, fewer met
                    hits = guarded
                    worth = self._triggers.labels(hits["title"], only=worth) | (
                        self._triggers.labels(hits["text"], only=worth)
                    )
            if not worth:
                return []
        raws: list[_Raw] = []
        for name, value in fields.items():
            if not prefilter:
                for u0, u1 in split_units(value):
                    raws.extend(self._match_unit(value, name, u0, u1))
                continue
            # anchors met in the whole field first: a unit holding none is skipped unchecked
            met = self._triggers.anchors(hits[name], only=worth)
            if not met:
                continue
            anywhere = {label for label, at in met.items() if not at}
            starts = sorted({p for at in met.values() for p in at})
            for u0, u1 in split_units(value):
                k = bisect.bisect_left(starts, u0)
                if not anywhere and (k == len(starts) or starts[k] >= u1):
                    continue
                here = {
                    label for label, at in met.items() if not at or any(u0 <= p < u1 for p in at)
                }
                candidates = self._triggers.anchors(hits[name], u0, u1, only=here)
                if candidates:
                    raws.extend(self._match_unit(value, name, u0, u1, candidates))
        if not raws:
            return []
        lang = lang or detect(f"{title}\n{text}")
        ctx = _DocContext(
            {
                name: Occurrences(
                    self._terms.find_spaced(folded[name] if prefilter else spaced(value))
                )
                for name, value in fields.items()
            }
        )
        per_rule: dict[tuple[str, str], list[_Raw]] = defaultdict(list)
        for raw in raws:
            per_rule[(raw.rule.id, raw.field)].append(raw)
        for key, group in per_rule.items():
            group.sort(key=lambda r: r.start)
            ctx.own[key] = [(r.start, r.end) for r in group]
        found = []
        for group in per_rule.values():
            for raw in group[:MAX_MATCHES_PER_RULE]:
                match = self._weigh(raw, fields, ctx, lang)
                if match is not None and match.score >= self.min_score:
                    found.append(match)
        return _best_per_place(found)

    def _worth(self, hits: dict[str, Hits]) -> set[str]:
        """Rules whose trigger stems occur and whose needed context may occur."""
        context = self._maybe_context.present(hits["title"].keys() | hits["text"].keys())
        possible = self._possible(frozenset(context))
        if not possible:
            return possible
        return self._triggers.labels(hits["title"], only=possible) | self._triggers.labels(
            hits["text"], only=possible
        )

    def _possible(self, context: frozenset[str]) -> set[str]:
        """Rules that can yield a signal when only ``context`` labels may occur."""
        cached = self._possible_cache.get(context)
        if cached is not None:
            return cached
        possible = set()
        for rule in self.rules.rules:
            needs = set(self.rules.context_phrases(rule))
            if rule.score <= 0 and needs and not needs & context:
                continue
            required = set(self.rules.context_phrases(rule, rule.requires))
            if required and TWO_COUNTRIES not in rule.requires and not required & context:
                continue
            possible |= {rule.id, rule.id + PATTERNS}
        if len(self._possible_cache) < 4096:
            self._possible_cache[context] = possible
        return possible

    def _match_unit(
        self,
        value: str,
        name: str,
        u0: int,
        u1: int,
        candidates: dict[str, list[int]] | None = None,
    ) -> Iterator[_Raw]:
        """spaCy on one unit; token patterns only of the rules the prefilter left in.

        With ``candidates`` (rule -> positions where its stems are met), only the tokens
        around those positions are lemmatised and matched: every match of a candidate rule
        includes the word at one of its positions, and is no longer than the longest phrase
        or pattern. Tokenizer and sentencizer still see the whole unit, so sentences, offsets
        and the matches themselves are those of a pass over the whole unit."""
        text = unify_apostrophes(value[u0:u1])
        regions = None
        lemmatizer = self.nlp.get_pipe("regwatch_lemmatizer") if self._regions_ok else None
        reach = self._longest_match
        if candidates and all(candidates.values()) and reach and lemmatizer:
            assert isinstance(lemmatizer, CachedLemmatizer)
            at = sorted({p - u0 for positions in candidates.values() for p in positions})
            doc = self._sentences(text)
            regions = _regions(doc, at, reach)
            for a, b in regions:
                lemmatizer.lemmatize(doc, a, b)
        if regions is None:
            doc = self.nlp(text)
            regions = [(0, len(doc))]
        for a, b in regions:
            region = doc[a:b] if (a, b) != (0, len(doc)) else doc
            spans: list[tuple[int, int, int]] = (
                list(self._phrases(region)) if len(self._phrases) else []
            )
            for rule_id, matcher in self._patterns.items():
                if candidates is None or rule_id + PATTERNS in candidates:
                    # a Matcher reports positions in the span it was given
                    spans += [(key, a + s, a + e) for key, s, e in matcher(region)]
            for key, start, end in spans:
                span: Span = doc[start:end]
                sent = span.sent
                yield _Raw(
                    self._by_id[self.nlp.vocab.strings[key]],
                    name,
                    u0 + span.start_char,
                    u0 + span.end_char,
                    u0 + sent.start_char,
                    u0 + sent.end_char,
                )

    def _sentences(self, text: str) -> Doc:
        """Tokens and sentence starts, without lemmas."""
        doc = self.nlp.make_doc(text)
        return self.nlp.get_pipe("sentencizer")(doc)

    def _weigh(
        self, raw: _Raw, fields: dict[str, str], ctx: _DocContext, lang: str
    ) -> Match | None:
        rule, value, here = raw.rule, fields[raw.field], ctx.occ[raw.field]
        in_sentence = here.labels(raw.sent_start, raw.sent_end)
        if f"ex:{rule.id}" in in_sentence:
            return None
        everywhere = ctx.everywhere()
        if rule.requires and not self._required(rule, in_sentence, everywhere):
            return None
        labels = self._context_labels[rule.id]
        mine = [(raw.start, raw.end)] if not rule.self_context else []
        near = labels & here.labels(raw.sent_start, raw.sent_end, skip=mine)
        elsewhere = labels & ctx.outside(rule)
        if not labels:
            score, reason = rule.score, "phrase match"
        elif near:
            score, reason = rule.sentence_score, f"with {_names(near)} in the sentence"
        elif elsewhere:
            score, reason = rule.document_score, f"with {_names(elsewhere)} in the document"
        else:
            score, reason = rule.score, f"no {_names(labels, '/')} context"
        sentence = value[raw.sent_start : raw.sent_end].strip()
        attributes: dict[str, str] = {}
        if rule.instrument:
            stage, factor = self._stage(in_sentence, sentence)
            attributes = instrument_details(rule.instrument, stage, sentence)
            if factor < 1.0:
                score, reason = score * factor, f"{reason}; stage {stage}, not a draft"
        if score <= 0:
            return None
        countries, bodies = self._places(in_sentence, everywhere)
        matched = value[raw.start : raw.end]
        return Match(
            category=rule.category,
            rule=rule.id,
            field=raw.field,
            text=matched,
            start=raw.start,
            end=raw.end,
            sentence=sentence,
            score=round(score, 3),
            reason=f"'{matched}' {reason}",
            lang=lang,
            countries=countries,
            bodies=bodies,
            attributes=attributes,
        )

    def _required(self, rule: Rule, in_sentence: set[str], everywhere: set[str]) -> bool:
        needed = self._required_labels[rule.id]
        if needed & everywhere:
            return True
        countries = {lab for lab in in_sentence if lab.startswith("country:")}
        return TWO_COUNTRIES in rule.requires and len(countries) >= 2

    def _stage(self, in_sentence: set[str], sentence: str) -> tuple[str, float]:
        """The first stage (in instruments.toml order) named in the instrument's own sentence;
        "draft" when none is. Lemmas cannot tell "вступил" from "вступит", so a sentence that
        speaks of a future entry into force is not "in force"; nor is a negated stage."""
        negated = bool(_NEGATED.search(sentence))
        for stage in self.rules.stages:
            if f"stage:{stage.name}" not in in_sentence:
                continue
            if stage.score_factor < 1.0 and (negated or _FUTURE.search(sentence)):
                continue
            return stage.name, stage.score_factor
        return "draft", 1.0

    def _places(
        self, in_sentence: set[str], in_doc: set[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Countries and bodies named in the sentence, else anywhere in the document."""
        for labels in (in_sentence, in_doc):
            bodies = {lab.removeprefix("body:") for lab in labels if lab.startswith("body:")}
            countries = {
                lab.removeprefix("country:") for lab in labels if lab.startswith("country:")
            } | {self._body_country[b] for b in bodies}
            if countries or bodies:
                return tuple(sorted(countries)), tuple(sorted(bodies))
        return (), ()


_FUTURE = re.compile(
    r"\b(will|shall|would)\s+(enter|come|take)\b|вступит|вступят|вступает|вступают|kuchga kiradi",
    re.I,
)
_NEGATED = re.compile(r"\b(not yet|not been|has not|have not|ещё не|еще не|не был[аио]?)\b", re.I)


def _longest_match(phrases: PhraseMatcher, rules: RuleSet, nlp: Language) -> int | None:
    longest = 1
    for rule in rules.rules:
        for phrase in rule.phrases:
            longest = max(longest, len(nlp.make_doc(unify_apostrophes(phrase))))
        for pattern in rule.patterns:
            for token in pattern:
                op = token.get("OP")
                if op in ("*", "+") or (isinstance(op, str) and "{" in op):
                    return None
            longest = max(longest, len(pattern))
    return longest


def _regions(doc: Doc, at: list[int], reach: int) -> list[tuple[int, int]]:
    """Token ranges around the tokens at character offsets ``at`` (sorted): ``reach`` - 1
    tokens either side, overlapping ranges merged."""
    starts = doc.to_array("IDX").tolist()
    regions: list[tuple[int, int]] = []
    for c in at:
        i = bisect.bisect_right(starts, c) - 1
        a, b = max(0, i - reach + 1), min(len(doc), i + reach)
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], b))
        else:
            regions.append((a, b))
    return regions


def _merge_guards(
    req: Requirement,
    guarded: dict[str, set[str]],
    unguarded: set[str],
    into: dict[str, set[str]],
    unguarded_into: set[str],
) -> None:
    """A stem keeps a guard only if every use of it has one."""
    for alts, _index in req:
        for stem in alts:
            if stem in guarded and stem not in unguarded:
                into[stem] |= guarded[stem]
            else:
                unguarded_into.add(stem)


def _names(labels: Collection[str], sep: str = ", ") -> str:
    return sep.join(sorted(lab.split(":", 1)[1] for lab in labels))


def _all_context(rules: RuleSet) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for rule in rules.rules:
        out.update(rules.context_phrases(rule))
        out.update(rules.context_phrases(rule, rule.requires))
    return out


def _best_per_place(matches: list[Match]) -> list[Match]:
    """Where matches of one category overlap, keep the higher-scoring (then longer) one."""
    ordered = sorted(matches, key=lambda m: (-m.score, -(m.end - m.start), m.start, m.rule))
    kept: list[Match] = []
    for m in ordered:
        if any(
            k.category == m.category and k.field == m.field and k.start < m.end and m.start < k.end
            for k in kept
        ):
            continue
        kept.append(m)
    return sorted(kept, key=lambda m: (m.category, -m.score, m.field, m.start))
