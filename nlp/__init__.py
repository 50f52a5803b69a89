"""Signal detection: a blank spaCy pipeline, cached Russian lemmas, rules as data."""

from regwatch.nlp.flag import Flagger, Match
from regwatch.nlp.langid import detect
from regwatch.nlp.pipeline import build_nlp
from regwatch.nlp.rules import Rule, RuleSet, load_rules

__all__ = ["Flagger", "Match", "Rule", "RuleSet", "build_nlp", "detect", "load_rules"]
