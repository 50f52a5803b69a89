"""Train the learned stage on the real-text set's train split and the team-written labelled
set, choose a threshold per category by cross-validation on the train split, and check the
result on the real dev split (the real test split and the team's held-out set are never read
here): ``make train``.

    python -m regwatch.nlp.train [--data DIR] [--team DIR] [--out FILE]

Thresholds: the train split is cut into :data:`FOLDS` folds by story (the records of one story,
in whatever language, stay in one fold); each fold is flagged by the rules and by a model fitted
on the other folds and the team-written set, with the stage's real gate (a model signal where
the rules did not flag the category, in documents the stage reaches). On those out-of-fold
outcomes a coordinate ascent picks, per category, the threshold of :data:`THRESHOLDS` (or
:data:`OFF`: never) that gives rules ∪ model the best micro-F1 while its precision stays within
:data:`PRECISION_GIVEN` of the rules' own and no more hard negatives raise a signal than
:data:`FALSE_ALARMS` (or the rules' own share, if higher). Dev is the honest check after: a
model that scores lower dev micro-F1 than the rules alone, or costs more dev precision than
:data:`PRECISION_GIVEN`, is written raising nothing (every threshold :data:`OFF`).

The team-written set is in the training data because on the real train split alone the model
raised categories the team's texts do not have. Same data, same file: the folds come from a
hash of the story slug, and :func:`regwatch.nlp.learned.fit` has no random state.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from regwatch.nlp.evaluate import (
    DATA,
    DEFAULT_SET,
    THRESHOLD,
    Example,
    Report,
    Score,
    load_examples,
    report,
)
from regwatch.nlp.flag import Flagger
from regwatch.nlp.learned import DEFAULT_MODEL, RULE, Model, fit
from regwatch.nlp.rules import load_rules

__all__ = [
    "FOLDS",
    "OFF",
    "THRESHOLDS",
    "Outcome",
    "Retrained",
    "choose_thresholds",
    "cross_validated",
    "retrain",
    "train",
]

REAL = DATA / "real"
PRECISION_GIVEN = 0.03  # how much micro precision the model may cost against the rules alone
FALSE_ALARMS = 0.10  # hard negatives raising a signal: at most this share (or the rules' own)
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
OFF = 1.0  # a category at this threshold is never raised (no sigmoid of a finite score gets there)
FOLDS = 5
ROUNDS = 3  # passes of the coordinate ascent over the categories
SETTINGS = {"l2": 1.0, "iterations": 300, "step": 4.0, "min_df": 2}


def train(examples: Sequence[Example], categories: Sequence[str]) -> Model:
    """A model fitted on ``examples`` (title and text together)."""
    texts = [f"{ex.title}\n{ex.text}" for ex in examples]
    model = fit(texts, [ex.labels for ex in examples], categories, **SETTINGS)  # type: ignore[arg-type]
    meta = {"trained_on": f"{len(examples)} texts", **SETTINGS}
    return dataclasses.replace(model, meta=meta)


@dataclass(frozen=True)
class Outcome:
    """One labelled text as the flagger saw it: the categories the rules raised, the model's
    score for each category it looked at (none when the stage did not reach the text), the
    true labels, and whether it is a hard negative (no label, trigger words used innocently)."""

    rules: frozenset[str]
    model: Mapping[str, float]
    labels: frozenset[str]
    hard_negative: bool

    @classmethod
    def of(cls, flagger: Flagger, ex: Example) -> Outcome:
        """``ex`` flagged by ``flagger``, whose model should raise every category (``.at(0)``)."""
        found = flagger.flag(ex.title, ex.text)
        rules = frozenset(m.category for m in found if m.rule != RULE and m.score >= THRESHOLD)
        model = {m.category: m.score for m in found if m.rule == RULE}
        return cls(rules, model, ex.labels, ex.hard_negative and not ex.labels)


def tally(outcomes: Iterable[Outcome], thresholds: Mapping[str, float]) -> tuple[Score, float]:
    """Micro counts of rules ∪ model at ``thresholds`` (a category not named: :data:`OFF`)
    and the share of hard negatives raising any signal."""
    s, negatives, alarms = Score(), 0, 0
    for o in outcomes:
        found = o.rules | {c for c, p in o.model.items() if p >= thresholds.get(c, OFF)}
        s.tp += len(found & o.labels)
        s.fp += len(found - o.labels)
        s.fn += len(o.labels - found)
        if o.hard_negative:
            negatives += 1
            alarms += bool(found)
    return s, alarms / negatives if negatives else 0.0


def choose_thresholds(
    outcomes: Sequence[Outcome], categories: Sequence[str]
) -> tuple[dict[str, float], list[str]]:
    """A threshold per category (see the module's docstring) and a line of the report for the
    rules alone and for the choice."""
    rules, rules_alarms = tally(outcomes, {})
    floor = rules.precision - PRECISION_GIVEN
    alarms = max(FALSE_ALARMS, rules_alarms)
    chosen = dict.fromkeys(categories, OFF)
    best = rules
    for _ in range(ROUNDS):
        changed = False
        for c in categories:
            for t in reversed(THRESHOLDS):  # the higher threshold on a tie
                s, fa = tally(outcomes, {**chosen, c: t})
                if s.precision >= floor and fa <= alarms and s.f1 > best.f1 + 1e-9:
                    best, chosen, changed = s, {**chosen, c: t}, True
        if not changed:
            break
    final, final_alarms = tally(outcomes, chosen)
    lines = [
        f"  cross-validated train ({FOLDS} folds by story): rules only {_line(rules)}, "
        f"hard negatives flagged {rules_alarms:.1%}",
        f"  cross-validated train, rules + model: {_line(final)}, hard negatives flagged "
        f"{final_alarms:.1%} (precision at least {floor:.3f}, false alarms at most {alarms:.1%})",
        "  thresholds: "
        + ", ".join(f"{c} {t:.2f}" for c, t in chosen.items() if t < OFF)
        + (
            " (none below 1.00: the model raises nothing)"
            if all(t >= OFF for t in chosen.values())
            else ""
        ),
    ]
    return chosen, lines


def fold_of(ex: Example) -> int:
    """The cross-validation fold of ``ex``: a hash of its story (of its id if it has none)."""
    return int(hashlib.sha256((ex.story or ex.id).encode()).hexdigest(), 16) % FOLDS


def cross_validated(
    rules: Flagger, real: Sequence[Example], others: Sequence[Example], categories: Sequence[str]
) -> list[Outcome]:
    """The out-of-fold :class:`Outcome` of every text of ``real``: flagged by the rules and
    by a model fitted on the other folds and ``others``."""
    out = []
    for k in range(FOLDS):
        held = [ex for ex in real if fold_of(ex) == k]
        rest = [ex for ex in real if fold_of(ex) != k]
        model = train([*rest, *others], categories).at(0.0)
        trial = Flagger(rules.rules, nlp=rules.nlp, model=model)
        out += [Outcome.of(trial, ex) for ex in held]
    return out


def _line(m: Score) -> str:
    return f"P {m.precision:.3f} R {m.recall:.3f} F1 {m.f1:.3f}"


def build(
    rules: Flagger, real: Sequence[Example], others: Sequence[Example]
) -> tuple[Model, list[str]]:
    """A model fitted on ``real`` (the real train split) and ``others``, with thresholds
    chosen by cross-validation on ``real``, and the report's lines."""
    categories = sorted(rules.rules.categories)
    thresholds, lines = choose_thresholds(
        cross_validated(rules, real, others, categories), categories
    )
    model = train([*real, *others], categories)
    meta = {
        **model.meta,
        "thresholds_from": f"{FOLDS}-fold cross-validation on the real train split by story",
    }
    return dataclasses.replace(model, threshold=OFF, thresholds=thresholds, meta=meta), lines


def dev_check(rules: Flagger, model: Model, dev: Sequence[Example]) -> tuple[Model, list[str]]:
    """``model`` if rules ∪ model score no lower micro-F1 on ``dev`` than the rules alone and
    cost no more precision than :data:`PRECISION_GIVEN`; else ``model`` raising nothing."""
    alone = report(rules, dev)
    both = report(Flagger(rules.rules, nlp=rules.nlp, model=model), dev)
    a, b = alone.micro, both.micro
    lines = [
        f"dev: rules only {_line(a)}, hard negatives flagged {alone.false_alarm_rate:.1%}",
        f"dev: rules + model {_line(b)}, hard negatives flagged {both.false_alarm_rate:.1%}",
    ]
    if b.f1 < a.f1 or b.precision < a.precision - PRECISION_GIVEN:
        lines.append("dev check failed: the model is written raising nothing (thresholds 1.00)")
        return model.at(OFF), lines
    return model, lines


def per_category(rules: Report, both: Report) -> list[str]:
    """Dev recall and precision per category, rules only against rules + model."""
    out = [f"  {'category':<26}{'rules P':>8}{'R':>7} | {'+model P':>8}{'R':>7}"]
    for c in sorted(both.scores):
        a, b = rules.scores[c], both.scores[c]
        out.append(
            f"  {c:<26}{a.precision:8.3f}{a.recall:7.3f} | {b.precision:8.3f}{b.recall:7.3f}"
        )
    return out


@dataclass(frozen=True)
class Retrained:
    """What :func:`retrain` did: the dev split's micro-F1 with the model in place and with
    the new one, the report's lines, and whether the new model replaced the old."""

    before: float
    after: float
    lines: list[str]
    replaced: bool


def retrain(
    extra: Sequence[Example],
    out: Path,
    *,
    data: Path = REAL,
    team: Path = DEFAULT_SET,
    current: Path | None = None,
) -> Retrained:
    """Train on the real train split, the team-written set and ``extra`` (analysts'
    feedback), choose thresholds by cross-validation on the real train split, and write the
    model to ``out`` only if rules ∪ model score no lower micro-F1 on dev than with the model
    now at ``out`` (or ``current`` when ``out`` is not there yet; no model at all: the rules
    alone)."""
    examples = load_examples([data])
    part = {s: [ex for ex in examples if ex.split == s] for s in ("train", "dev")}
    rules = Flagger(load_rules())
    team_set = load_examples([team]) if team.exists() else []
    old = out if out.exists() else current
    flagger = Flagger(rules.rules, nlp=rules.nlp, model=Model.load(old)) if old else rules
    before = report(flagger, part["dev"]).micro
    model, tried = build(rules, part["train"], [*team_set, *extra])
    model, checked = dev_check(rules, model, part["dev"])
    after = report(Flagger(rules.rules, nlp=rules.nlp, model=model), part["dev"]).micro
    lines = [
        f"trained on {len(part['train'])} real train texts, {len(team_set)} team-written ones "
        f"and {len(extra)} from feedback",
        *tried,
        *checked,
        f"dev before ({old or 'rules only'}): {_line(before)}",
        f"dev after: {_line(after)}",
    ]
    if after.f1 < before.f1:
        lines.append(
            f"refused: dev micro-F1 would fall {before.f1:.3f} -> {after.f1:.3f}; "
            f"{out} is left as it was"
        )
        return Retrained(before.f1, after.f1, lines, False)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    lines.append(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return Retrained(before.f1, after.f1, lines, True)


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m regwatch.nlp.train", description=__doc__)
    p.add_argument("--data", type=Path, default=REAL, help="the real-text set's folder")
    p.add_argument("--team", type=Path, default=DEFAULT_SET, help="the team-written set")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="where to write the model")
    args = p.parse_args(argv)
    examples = load_examples([args.data])
    part = {s: [ex for ex in examples if ex.split == s] for s in ("train", "dev")}
    rules = Flagger(load_rules())
    team = load_examples([args.team]) if args.team.exists() else []
    model, lines = build(rules, part["train"], team)
    print(
        f"trained on {len(part['train'])} real train texts and {len(team)} team-written ones, "
        f"{len(model.vocab)} features"
    )
    print("\n".join(lines))
    model, checked = dev_check(rules, model, part["dev"])
    print("\n".join(checked))
    both = Flagger(rules.rules, nlp=rules.nlp, model=model)
    print("\n".join(per_category(report(rules, part["dev"]), report(both, part["dev"]))))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
