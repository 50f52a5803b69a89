"""Flag a document: match every rule on lemmas and token patterns, weigh context, keep
evidence (matched text, offsets, sentence, score and reason)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from errors import RulesError
from nlp.langid import detect
from nlp.pipeline import build_nlp
from nlp.rules import Rule, RuleSet, load_rules

__all__ = ["Flagger", "Match"]

# Apostrophe look-alikes in Uzbek Latin ("sunʼiy", "oʻzbek"): folded one-for-one, so offsets hold.
_APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ’‘`´"})


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


class Flagger:
    """Holds the pipeline and compiled matchers; build once, call :meth:`flag` per document."""

    def __init__(self, rules: RuleSet, *, nlp: Language | None = None, min_score: float = 0.0):
        self.rules = rules
        self.min_score = min_score
        self.nlp = nlp or build_nlp()
        self._by_id: dict[str, Rule] = {r.id: r for r in rules.rules}
        self._phrases = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._patterns = Matcher(self.nlp.vocab, validate=True)
        self._context = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._exclude = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._context_labels: set[str] = set()
        for rule in rules.rules:
            if rule.phrases:
                self._phrases.add(rule.id, self._docs(rule.phrases))
            if rule.patterns:
                try:
                    self._patterns.add(rule.id, [list(p) for p in rule.patterns])
                except (ValueError, KeyError) as exc:
                    raise RulesError(f"rules: rule {rule.id}: bad token pattern: {exc}") from None
            for label, phrases in rules.context_phrases(rule).items():
                if label not in self._context_labels:
                    self._context.add(label, self._docs(phrases))
                    self._context_labels.add(label)
            if rule.exclude:
                self._exclude.add(rule.id, self._docs(rule.exclude))

    @classmethod
    def from_folder(cls, folder: Path | str | None = None, min_score: float = 0.0) -> Flagger:
        return cls(load_rules(folder), min_score=min_score)

    def _docs(self, phrases: tuple[str, ...]) -> list[Doc]:
        return list(self.nlp.pipe(p.translate(_APOSTROPHES) for p in phrases))

    def flag(self, title: str, text: str, lang: str | None = None) -> list[Match]:
        """All signals in a document's title and text, best first within a category."""
        lang = lang or detect(f"{title}\n{text}")
        fields = {"title": title, "text": text}
        docs = {name: self.nlp(value.translate(_APOSTROPHES)) for name, value in fields.items()}
        context = {
            name: [(s, e, self.nlp.vocab.strings[k]) for k, s, e in _run(self._context, doc)]
            for name, doc in docs.items()
        }
        hits = {
            name: [
                (self.nlp.vocab.strings[k], s, e)
                for k, s, e in _run(self._phrases, doc) + _run(self._patterns, doc)
            ]
            for name, doc in docs.items()
        }
        found: list[Match] = []
        doc_context: dict[str, set[str]] = {}
        for name, doc in docs.items():
            excluded = defaultdict(list)
            for key, s, e in _run(self._exclude, doc):
                excluded[self.nlp.vocab.strings[key]].append((s, e))
            for rule_id, start, end in hits[name]:
                rule = self._by_id[rule_id]
                if rule_id not in doc_context:
                    doc_context[rule_id] = _context_outside(rule_id, context, hits)
                match = self._weigh(
                    rule,
                    doc[start:end],
                    name,
                    fields[name],
                    lang,
                    doc_context[rule_id],
                    context[name],
                    excluded.get(rule_id, []),
                )
                if match is not None and match.score >= self.min_score:
                    found.append(match)
        return _best_per_place(found)

    def _weigh(
        self,
        rule: Rule,
        span: Span,
        field: str,
        original: str,
        lang: str,
        doc_context: set[str],
        context_spans: list[tuple[int, int, str]],
        excluded: list[tuple[int, int]],
    ) -> Match | None:
        sent = span.sent if field == "text" else span.doc[:]
        if any(sent.start <= s and e <= sent.end for s, e in excluded):
            return None
        labels = set(self.rules.context_phrases(rule))
        near = sorted(
            {
                lab
                for s, e, lab in context_spans
                if lab in labels
                and sent.start <= s
                and e <= sent.end
                and not (s < span.end and span.start < e)
            }
        )
        elsewhere = sorted(labels & doc_context)
        if not labels:
            score, reason = rule.score, "phrase match"
        elif near:
            score, reason = rule.sentence_score, f"with {', '.join(near)} in the sentence"
        elif elsewhere:
            score, reason = rule.document_score, f"with {', '.join(elsewhere)} in the document"
        else:
            score, reason = rule.score, "no " + "/".join(sorted(labels)) + " context"
        if score <= 0:
            return None
        matched = original[span.start_char : span.end_char]
        return Match(
            category=rule.category,
            rule=rule.id,
            field=field,
            text=matched,
            start=span.start_char,
            end=span.end_char,
            sentence=original[sent.start_char : sent.end_char].strip(),
            score=round(score, 3),
            reason=f"'{matched}' {reason}",
            lang=lang,
        )


def _context_outside(
    rule_id: str,
    context: dict[str, list[tuple[int, int, str]]],
    hits: dict[str, list[tuple[str, int, int]]],
) -> set[str]:
    """Context labels found anywhere in the document except inside the rule's own matches
    («цифровая» in «цифровая безопасность» is not technology context for that phrase)."""
    labels: set[str] = set()
    for field, spans in context.items():
        own = [(s, e) for rid, s, e in hits[field] if rid == rule_id]
        labels.update(lab for s, e, lab in spans if not any(s < oe and os_ < e for os_, oe in own))
    return labels


def _run(matcher: Matcher | PhraseMatcher, doc: Doc) -> list[tuple[int, int, int]]:
    """Matches as (key, start, end); an empty matcher is skipped (spaCy warns on those)."""
    return list(matcher(doc)) if len(matcher) else []


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
