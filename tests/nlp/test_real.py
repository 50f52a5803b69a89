"""The real-text set (tests/nlp/data/real/, GUIDE.md): its shape, and the flagger's floors on it.

The set is the yardstick: excerpts of real published pages with their provenance, labels with a
verbatim span each, a fixed split by story. The floors are held on the test split, which nothing
is tuned on; they only ever move up.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from regwatch.nlp.evaluate import Report, load_examples, print_targets, report
from regwatch.nlp.flag import Flagger

REAL = Path(__file__).parent / "data" / "real"
CATEGORIES = {
    "ai_governance_body",
    "content_control",
    "data_localization",
    "digital_security",
    "draft_instrument",
    "dushanbe_ai_center",
    "regional_cooperation",
    "risk_classification",
    "surveillance_biometrics",
}


def records() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for f in sorted(REAL.glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_every_record_has_provenance_and_verbatim_spans() -> None:
    rs = records()
    assert len(rs) >= 400
    assert len({r["id"] for r in rs}) == len(rs)
    assert len({r["text"] for r in rs}) == len(rs)
    for r in rs:
        assert r["url"].startswith(("http://", "https://")), r["id"]
        assert r["query"].strip(), r["id"]
        assert r["split"] in {"train", "dev", "test"}, r["id"]
        assert 400 <= len(r["text"]) <= 2000, (r["id"], len(r["text"]))
        assert set(r["labels"]) <= CATEGORIES, r["id"]
        assert set(r["spans"]) == set(r["labels"]), r["id"]
        for cat, quote in r["spans"].items():
            assert quote and quote in r["text"], (r["id"], cat)
        assert not (r["hard_negative"] and r["labels"]), r["id"]


def test_languages_and_hard_negatives_as_the_guide_asks() -> None:
    rs = records()
    langs = Counter(r["lang"] for r in rs)
    assert langs["ru"] >= 150 and langs["en"] >= 100, langs
    for lang in ("kk", "uz", "tg", "ky"):
        assert langs[lang] >= 25, langs
    scripts = Counter(r.get("script") for r in rs if r["lang"] == "uz")
    assert scripts["latin"] and scripts["cyrillic"], scripts
    assert sum(r["hard_negative"] for r in rs) >= len(rs) / 3


def test_split_by_story_with_every_category_in_every_split() -> None:
    rs = records()
    split_of: dict[str, set[str]] = defaultdict(set)
    for r in rs:
        split_of[r["story"]].add(r["split"])
    straddling = [s for s, splits in split_of.items() if len(splits) > 1]
    assert not straddling
    for split in ("train", "dev", "test"):
        labels = Counter(c for r in rs if r["split"] == split for c in r["labels"])
        assert set(labels) == CATEGORIES, (split, labels)


def test_the_stored_split_is_the_documented_assignment() -> None:
    from tests.nlp.data.real.assign_splits import assign

    rs = records()
    first = [r for r in rs if "added" not in r]  # the set as it was built and split
    splits = assign(first)
    assert [r["split"] for r in first] == [splits[r["story"]] for r in first]
    # records added later never reach the test split
    assert not [r["id"] for r in rs if "added" in r and r["split"] == "test"]


@pytest.fixture(scope="module")
def test_split() -> Report:
    examples = [ex for ex in load_examples([REAL]) if ex.split == "test"]
    return report(Flagger.from_folder(), examples)


# Floors on the real test split: what the flagger reaches today, never to fall. The targets of
# issue 15 (micro-F1 0.90, recall 0.80 per category, headline 0.95, hard negatives 10 %) are
# printed by `make eval` beside them. Rules round 5 (tuned on train/dev only) raised micro-F1
# 0.775 -> 0.806 and headline recall 0.72 -> 0.76, and 2 more of the 30 hard negatives raise a
# signal (4 of 30: 13.3 %, above the 10 % target; train 6.3 %, dev 3.8 %): the ceiling holds
# today's 4, so one more false alarm fails.
MICRO_F1_FLOOR = 0.80
HEADLINE_RECALL_FLOOR = 0.75
FALSE_ALARM_CEILING = 4 / 30


def test_floors_on_the_real_test_split(test_split: Report) -> None:
    assert test_split.micro.f1 >= MICRO_F1_FLOOR
    assert test_split.headline.recall >= HEADLINE_RECALL_FLOOR
    assert test_split.false_alarm_rate <= FALSE_ALARM_CEILING


def test_make_eval_prints_each_target_and_the_gap_to_it(
    test_split: Report, capsys: pytest.CaptureFixture[str]
) -> None:
    print_targets(test_split)
    out = capsys.readouterr().out
    f1 = test_split.micro.f1
    verdict = "met" if f1 >= 0.90 else f"short by {0.90 - f1:.3f}"
    assert f"micro-F1{'':<26}{f1:7.3f}  target >= 0.90: {verdict}" in out
    assert out.count("recall ") == len(test_split.scores) + 1  # each category, and headline
    assert "hard negatives raising a signal" in out and "target <= 0.10" in out
