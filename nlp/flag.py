"""Flag a document: find every rule's matches on lemmas and token patterns, weigh context,
and keep the evidence (matched text, offsets, sentence, score and reason, countries and
bodies, and for draft instruments their type, stage, number and date).

Text is handled in units (paragraphs, long ones cut at sentence ends), so a 2-million-character
page never reaches spaCy whole. With ``prefilter`` (the default) only units holding every stem
of some rule go through spaCy (nlp/prefilter.py), and context, exclusions and the gazetteer are
looked up only at words an Aho-Corasick scan finds (nlp/terms.py). Without it, every unit goes
through spaCy and every word is looked up: the reference the prefiltered output is tested
against.

After the rules, the learned stage (nlp/learned.py), when the Flagger has a model, scores the
categories the rules did not flag, in documents where the prefilter selected units or the
model's gate context occurs; its signals name it: ``rule`` is "model" and the reason reads
``model: 0.83 for regional_cooperation``.
"""

from __future__ import annotations

from pathlib import Path

from spacy.language import Language

from regwatch.nlp.evidence import (
    Match,
    Raw,
    Weigher,
    all_context,
    context_conditions,
    term_items,
)
from regwatch.nlp.langid import detect
from regwatch.nlp.learned import DEFAULT_MODEL, LearnedStage, Model
from regwatch.nlp.matching import UnitMatcher
from regwatch.nlp.pipeline import build_nlp
from regwatch.nlp.prefilter import Prefilter, Selection
from regwatch.nlp.rules import RuleSet, load_rules
from regwatch.nlp.stems import phrase_requirement, rule_requirements
from regwatch.nlp.terms import Occurrences, TermMatcher, words_of
from regwatch.nlp.text import scrub_surrogates, split_units

__all__ = ["Flagger", "Match"]


class Flagger:
    """Holds the pipeline and compiled rules; build once, call :meth:`flag` per document."""

    def __init__(
        self,
        rules: RuleSet,
        *,
        nlp: Language | None = None,
        min_score: float = 0.0,
        model: Model | None = None,
    ):
        self.rules = rules
        self.min_score = min_score
        self.model = model
        self.learned = LearnedStage(model) if model is not None else None
        self.nlp = nlp or build_nlp()
        self._matcher = UnitMatcher(rules, self.nlp)
        triggers, guards = rule_requirements(rules)
        # context that may be present (by stem): a rule that needs context it cannot find
        # in the document is not worth running spaCy for
        context = [
            (label, phrase_requirement(term))
            for label, terms in all_context(rules).items()
            for term in terms
        ]
        self._prefilter = Prefilter(triggers, context, guards, context_conditions(rules))
        self._terms = TermMatcher(term_items(rules))
        self._weigher = Weigher(rules, min_score)

    @classmethod
    def from_folder(
        cls,
        folder: Path | str | None = None,
        min_score: float = 0.0,
        model: Path | str | None = DEFAULT_MODEL,
    ) -> Flagger:
        """The rules in ``folder`` (default: the bundled ones) and the model at ``model``
        (default: the bundled one; None: rules only)."""
        learned = Model.load(model) if model is not None else None
        return cls(load_rules(folder), min_score=min_score, model=learned)

    def flag(
        self, title: str, text: str, lang: str | None = None, *, prefilter: bool = True
    ) -> list[Match]:
        """All signals in a document's title and text, best first within a category."""
        fields = {"title": scrub_surrogates(title), "text": scrub_surrogates(text)}
        scan = self._prefilter.scan(fields) if prefilter or self.learned else None
        selection = self._prefilter.select(fields, scan) if prefilter and scan else None
        matches = self._rules(fields, lang, selection if prefilter else None, prefilter)
        if self.learned is None or scan is None:
            return matches
        if not prefilter:  # the same gate as with the prefilter
            selection = self._prefilter.select(fields, scan)
        if not self.learned.reaches(selection is not None, scan.context):
            return matches
        flagged = {m.category for m in matches}
        lang = lang or detect(f"{title}\n{text}")
        extra = self.learned.signals(fields, lang, flagged, scan.folded)
        if not extra:
            return matches
        return sorted([*matches, *extra], key=lambda m: (m.category, -m.score, m.field, m.start))

    def _rules(
        self,
        fields: dict[str, str],
        lang: str | None,
        selection: Selection | None,
        prefilter: bool,
    ) -> list[Match]:
        """The rules' signals: in the prefilter's ``selection`` (none: no signal), or, without
        the prefilter, in every unit."""
        raws: list[Raw] = []
        folded = None
        if prefilter:
            if selection is None:
                return []
            folded = selection.folded
            for name, units in selection.units.items():
                for u0, u1, labels in units:
                    raws += self._matcher.match(fields[name], name, u0, u1, labels)
        else:
            for name, value in fields.items():
                for u0, u1 in split_units(value):
                    raws += self._matcher.match(value, name, u0, u1)
        if not raws:
            return []
        title, text = fields["title"], fields["text"]
        lang = lang or detect(f"{title}\n{text}")
        occ = {
            name: Occurrences(
                self._terms.find_spaced(folded[name])
                if folded is not None
                else self._terms.find(words_of(value))
            )
            for name, value in fields.items()
        }
        return self._weigher.weigh_all(raws, fields, occ, lang)
