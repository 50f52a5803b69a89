"""Measure the flagger on a labelled set: precision, recall and F1 per category.

A labelled file is JSON Lines: ``{"id", "lang", "title", "text", "labels": [category, …]}``.
A text counts as flagged for a category when it has a signal of that category scoring at
least ``threshold`` (the level at which signals reach the digest).

    python -m regwatch.nlp.evaluate [FOLDER_OR_FILE …]     (``make eval``)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from regwatch.errors import ConfigError
from regwatch.nlp.flag import Flagger

__all__ = ["DEFAULT_SET", "Example", "Score", "evaluate", "load_examples"]

DEFAULT_SET = Path(__file__).resolve().parents[1] / "tests" / "nlp" / "data" / "labelled"
THRESHOLD = 0.5


@dataclass(frozen=True)
class Example:
    id: str
    lang: str
    title: str
    text: str
    labels: frozenset[str]


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


def main(argv: Sequence[str]) -> int:
    paths = [Path(a) for a in argv] or [DEFAULT_SET]
    examples = load_examples(paths)
    scores = evaluate(Flagger.from_folder(), examples)
    print(f"{len(examples)} labelled texts; a category counts at score >= {THRESHOLD}")
    print(f"{'category':<26}{'P':>7}{'R':>7}{'F1':>7}{'tp':>5}{'fp':>5}{'fn':>5}")
    for cat, s in sorted(scores.items()):
        print(f"{cat:<26}{s.precision:7.3f}{s.recall:7.3f}{s.f1:7.3f}{s.tp:5}{s.fp:5}{s.fn:5}")
        if "-v" in sys.argv:
            print(f"    fp: {' '.join(s.false_positives)}\n    fn: {' '.join(s.false_negatives)}")
    return 0


if __name__ == "__main__":
    sys.exit(main([a for a in sys.argv[1:] if a != "-v"]))
