"""Measure the flagger on a labelled set: precision, recall and F1 per category.

A labelled file is JSON Lines: ``{"id", "lang", "title", "text", "labels": [category, …]}``;
the real-text set (``tests/nlp/data/real/``, see its GUIDE.md) adds ``split`` (train, dev or
test), ``hard_negative``, ``url``, ``query``, ``story`` and ``spans``. A text counts as flagged
for a category when it has a signal of that category scoring at least ``threshold`` (the level
at which signals reach the digest). Besides the per-category table the report gives micro-F1,
the headline recall (digital security, the Dushanbe AI Center and draft instruments together)
and, where a set has them, the share of hard negatives that raise any signal.

    python -m regwatch.nlp.evaluate [FOLDER_OR_FILE …] [--splits=train,dev] [--model=FILE] [-v]
                                    (``make eval``)

With a model (the bundled one unless ``--model=`` names another, or none), each set is reported
as rules only and rules + learned stage side by side.

A folder whose records carry ``split`` is reported once per split (``--splits`` picks some: tune
on train and dev, never read the test split's mistakes).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from regwatch.errors import ConfigError
from regwatch.nlp.flag import Flagger
from regwatch.nlp.learned import DEFAULT_MODEL

__all__ = [
    "DEFAULT_SET",
    "HEADLINE",
    "TARGETS",
    "Example",
    "Report",
    "Score",
    "evaluate",
    "load_examples",
    "print_targets",
    "report",
]

DATA = Path(__file__).resolve().parents[1] / "tests" / "nlp" / "data"
DEFAULT_SET = DATA / "labelled"
DEFAULT_SETS = (DATA / "labelled", DATA / "heldout", DATA / "real")
THRESHOLD = 0.5
HEADLINE = ("digital_security", "dushanbe_ai_center", "draft_instrument")


@dataclass(frozen=True)
class Example:
    id: str
    lang: str
    title: str
    text: str
    labels: frozenset[str]
    split: str = ""
    hard_negative: bool = False
    story: str = ""  # the real-text set's story slug: folds keep a story together


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_examples(paths: Iterable[Path]) -> list[Example]:
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    out: list[Example] = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append(
                    Example(
                        str(d["id"]),
                        str(d.get("lang", "")),
                        str(d.get("title", "")),
                        str(d["text"]),
                        frozenset(d.get("labels", [])),
                        str(d.get("split", "")),
                        bool(d.get("hard_negative", False)),
                        str(d.get("story", "")),
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ConfigError(f"evaluate: {f}:{n}: not a labelled example ({exc})") from None
    return out


def evaluate(
    flagger: Flagger, examples: Sequence[Example], threshold: float = THRESHOLD
) -> dict[str, Score]:
    scores = {c: Score() for c in flagger.rules.categories}
    for ex in examples:
        found = {m.category for m in flagger.flag(ex.title, ex.text) if m.score >= threshold}
        for category, s in scores.items():
            hit, truth = category in found, category in ex.labels
            if hit and truth:
                s.tp += 1
            elif hit:
                s.fp += 1
                s.false_positives.append(ex.id)
            elif truth:
                s.fn += 1
                s.false_negatives.append(ex.id)
    return scores


@dataclass
class Report:
    """A flagger's scores on one set: per category, micro-averaged, headline, hard negatives."""

    scores: dict[str, Score]
    examples: int
    hard_negatives: int = 0
    hard_negatives_flagged: list[str] = field(default_factory=list)

    def _total(self, categories: Iterable[str]) -> Score:
        t = Score()
        for c in categories:
            s = self.scores[c]
            t.tp, t.fp, t.fn = t.tp + s.tp, t.fp + s.fp, t.fn + s.fn
        return t

    @property
    def micro(self) -> Score:
        return self._total(self.scores)

    @property
    def headline(self) -> Score:
        return self._total(c for c in HEADLINE if c in self.scores)

    @property
    def false_alarm_rate(self) -> float:
        """The share of hard negatives that raise any signal at the threshold."""
        if not self.hard_negatives:
            return 0.0
        return len(self.hard_negatives_flagged) / self.hard_negatives


def report(flagger: Flagger, examples: Sequence[Example], threshold: float = THRESHOLD) -> Report:
    scores = evaluate(flagger, examples, threshold)
    negatives = [ex for ex in examples if ex.hard_negative and not ex.labels]
    flagged = [
        ex.id
        for ex in negatives
        if any(m.score >= threshold for m in flagger.flag(ex.title, ex.text))
    ]
    return Report(scores, len(examples), len(negatives), flagged)


def print_report(name: str, rep: Report, verbose: bool = False) -> None:
    print(f"\n{name}: {rep.examples} labelled texts; a category counts at score >= {THRESHOLD}")
    print(f"{'category':<26}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}")
    rows = [*sorted(rep.scores.items()), ("micro", rep.micro), ("headline", rep.headline)]
    for cat, s in rows:
        print(f"{cat:<26}{s.precision:7.3f}{s.recall:7.3f}{s.f1:7.3f}{s.tp:5}{s.fp:5}{s.fn:5}")
        if verbose and cat in rep.scores:
            print(f"    fp: {' '.join(s.false_positives)}\n    fn: {' '.join(s.false_negatives)}")
    if rep.hard_negatives:
        print(
            f"hard negatives raising a signal: {len(rep.hard_negatives_flagged)} of "
            f"{rep.hard_negatives} ({rep.false_alarm_rate:.1%})"
            + (f": {' '.join(rep.hard_negatives_flagged)}" if verbose else "")
        )


def print_comparison(name: str, rules: Report, both: Report) -> None:
    """Rules only and rules + learned stage side by side, per category."""
    print(f"\n{name}: {both.examples} labelled texts; a category counts at score >= {THRESHOLD}")
    head = f"{'P':>7}{'R':>7}{'F1':>7}"
    print(f"{'':<26}{'rules only':^21} | {'rules + model':^21}{'tp':>5}{'fp':>5}{'fn':>5}")
    print(f"{'category':<26}{head} | {head}")
    rows = [*sorted(both.scores), "micro", "headline"]
    for cat in rows:
        a = rules.scores[cat] if cat in rules.scores else getattr(rules, cat)
        b = both.scores[cat] if cat in both.scores else getattr(both, cat)
        print(
            f"{cat:<26}{a.precision:7.3f}{a.recall:7.3f}{a.f1:7.3f} | "
            f"{b.precision:7.3f}{b.recall:7.3f}{b.f1:7.3f}{b.tp:5}{b.fp:5}{b.fn:5}"
        )
    if both.hard_negatives:
        print(
            f"hard negatives raising a signal: rules only {len(rules.hard_negatives_flagged)} "
            f"({rules.false_alarm_rate:.1%}), rules + model {len(both.hard_negatives_flagged)} "
            f"of {both.hard_negatives} ({both.false_alarm_rate:.1%})"
        )


# Issue 15's targets on the real test split (tests/nlp/test_real.py holds today's floors).
TARGETS = {"micro_f1": 0.90, "category_recall": 0.80, "headline_recall": 0.95, "false_alarms": 0.10}


def print_targets(rep: Report) -> None:
    """Each target beside what ``rep`` reads, and by how much it falls short."""

    def line(what: str, value: float, target: float, higher: bool = True) -> None:
        gap = value - target if higher else target - value
        verdict = "met" if gap >= -1e-9 else f"short by {-gap:.3f}"
        sign = ">=" if higher else "<="
        print(f"  {what:<34}{value:7.3f}  target {sign} {target:.2f}: {verdict}")

    print("targets on the real test split:")
    line("micro-F1", rep.micro.f1, TARGETS["micro_f1"])
    line("headline recall", rep.headline.recall, TARGETS["headline_recall"])
    line("hard negatives raising a signal", rep.false_alarm_rate, TARGETS["false_alarms"], False)
    for cat, score in sorted(rep.scores.items()):
        line(f"recall {cat}", score.recall, TARGETS["category_recall"])


def main(argv: Sequence[str]) -> int:
    verbose = "-v" in argv
    only: set[str] | None = None
    model: str | None = str(DEFAULT_MODEL)
    args = [a for a in argv if a != "-v"]
    for a in list(args):
        if a.startswith("--splits="):
            only = set(a.split("=", 1)[1].split(","))
            args.remove(a)
        elif a.startswith("--model="):
            model = a.split("=", 1)[1] or None
            args.remove(a)
    paths = [Path(a) for a in args] or [p for p in DEFAULT_SETS if p.exists()]
    flagger = Flagger.from_folder(model=model)
    rules_only = Flagger(flagger.rules, nlp=flagger.nlp)
    for path in paths:
        examples = load_examples([path])
        splits = sorted({ex.split for ex in examples}, key=["train", "dev", "test", ""].index)
        for split in splits:
            if only is not None and split and split not in only:
                continue
            part = [ex for ex in examples if ex.split == split]
            name = f"{path.name} ({split})" if split else path.name
            if flagger.model is None:
                alone = report(flagger, part)
                print_report(name, alone, verbose)
                if path.name == "real" and split == "test":
                    print_targets(alone)
                continue
            both = report(flagger, part)
            print_comparison(name, report(rules_only, part), both)
            if verbose:
                print_report(f"{name}, rules + model", both, verbose)
            if path.name == "real" and split == "test":
                print_targets(both)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
