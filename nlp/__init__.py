"""Signal detection: a blank spaCy pipeline, cached Russian lemmas, rules as data."""

from nlp.flag import Flagger, Match
from nlp.langid import detect
from nlp.pipeline import build_nlp
from nlp.rules import Rule, RuleSet, load_rules

__all__ = ["Flagger", "Match", "Rule", "RuleSet", "build_nlp", "detect", "load_rules"]
