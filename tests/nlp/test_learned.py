"""The learned stage (nlp/learned.py): the bundled model loads, its signals carry a sentence,
offsets, a score and a reason that names the stage, training is deterministic, and it runs only
where it can change the answer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from regwatch.errors import ConfigError
from regwatch.nlp.evaluate import DATA, load_examples
from regwatch.nlp.flag import Flagger
from regwatch.nlp.jsonl import match_json
from regwatch.nlp.learned import DEFAULT_MODEL, RULE, LearnedStage, Model, fit, sentences

# a regional-cooperation statement the rules' phrases do not cover (intent, a joint body)
COOPERATION = (
    "The ministers of Kazakhstan, Uzbekistan and Kyrgyzstan agreed to set up a joint working "
    "group on artificial intelligence to coordinate their approaches across the region. "
    "The weather in Astana was sunny."
)


@pytest.fixture(scope="module")
def model() -> Model:
    return Model.load(DEFAULT_MODEL)


def test_the_bundled_model_loads_and_is_small(model: Model, flagger: Flagger) -> None:
    assert DEFAULT_MODEL.stat().st_size < 5_000_000
    assert set(model.categories) == set(flagger.rules.categories)
    assert model.weights.shape == (len(model.categories), len(model.vocab))
    assert 0.5 <= model.threshold <= 1.0
    assert set(model.thresholds) == set(model.categories)  # one per category, by train.py
    assert all(0.5 <= t <= 1.0 for t in model.thresholds.values())
    assert flagger.model is not None  # Flagger.from_folder takes the bundled model


def test_a_model_signal_has_sentence_offsets_score_and_reason(model: Model) -> None:
    trial = model.at(0.0)  # every category the rules left
    stage = LearnedStage(trial)
    fields = {"title": "", "text": COOPERATION}
    found = {m.category: m for m in stage.signals(fields, "en", flagged={"draft_instrument"})}
    assert "draft_instrument" not in found  # the rules flagged it: the model does not look
    m = found["regional_cooperation"]
    assert m.rule == RULE
    assert m.reason == f"model: {m.score:.2f} for regional_cooperation"
    assert m.field == "text" and m.sentence == COOPERATION[m.start : m.end] == m.text
    assert m.sentence.startswith("The ministers")  # the best sentence, not the weather
    assert 0.0 <= m.score <= 1.0
    assert set(match_json(m)) == {
        "category",
        "rule",
        "field",
        "text",
        "start",
        "end",
        "sentence",
        "score",
        "reason",
        "countries",
        "bodies",
        "attributes",
    }


def test_training_is_deterministic() -> None:
    examples = load_examples([DATA / "real"])
    train = [e for e in examples if e.split == "train"][:80]
    texts = [f"{e.title}\n{e.text}" for e in train]
    labels = [e.labels for e in train]
    cats = sorted({c for e in train for c in e.labels})
    a = fit(texts, labels, cats, iterations=30)
    b = fit(texts, labels, cats, iterations=30)
    assert a.vocab == b.vocab
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)


def test_a_saved_model_reads_back_the_same(tmp_path: Path, model: Model) -> None:
    path = tmp_path / "m.json"
    model.save(path)
    again = Model.load(path)
    assert again.vocab == model.vocab and again.threshold == model.threshold
    assert again.thresholds == model.thresholds
    assert np.allclose(again.weights, model.weights, atol=1e-5)
    text = "Парламент одобрил законопроект об искусственном интеллекте."
    assert np.allclose(again.probabilities(text), model.probabilities(text), atol=1e-4)


def test_a_broken_model_file_names_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(ConfigError, match="make train"):
        Model.load(bad)
    with pytest.raises(ConfigError, match="make train"):
        Model.load(tmp_path / "missing.json")


def test_the_stage_is_gated(model: Model, flagger: Flagger) -> None:
    stage = LearnedStage(model)
    assert stage.reaches(True, ())
    assert stage.reaches(False, {"ai"})
    assert not stage.reaches(False, {"data", "tech"})
    # nothing the rules' prefilter keeps and no AI context: the model is never asked
    trial = Flagger(flagger.rules, nlp=flagger.nlp, model=model.at(0))
    assert trial.flag("", "The city council approved a budget for road repairs.") == []
    assert any(m.rule == RULE for m in trial.flag("", COOPERATION))


def test_model_signals_are_the_same_with_and_without_the_prefilter(
    flagger: Flagger, model: Model
) -> None:
    # a trial threshold, so the stage raises signals whatever threshold `make train` chose
    trial = Flagger(flagger.rules, nlp=flagger.nlp, model=model.at(0.5))
    examples = load_examples([DATA / "real"])
    texts = [(e.title, e.text) for e in examples if e.split in ("train", "dev")]
    raised = 0
    for title, text in texts:
        fast = trial.flag(title, text)
        assert fast == trial.flag(title, text, prefilter=False)
        raised += sum(m.rule == RULE for m in fast)
    assert raised > 10


def test_sentences_keep_offsets() -> None:
    text = "One. Two!  Three?\nFour"
    assert [text[a:b] for a, b in sentences(text)] == ["One.", "Two!", "Three?", "Four"]


def test_eval_reports_rules_only_and_rules_with_model(capsys: pytest.CaptureFixture[str]) -> None:
    from regwatch.nlp.evaluate import main

    assert main([str(DATA / "real"), "--splits=dev"]) == 0
    out = capsys.readouterr().out
    assert "real (dev)" in out and "rules only" in out and "rules + model" in out
    assert "real (test)" not in out


def test_flag_command_takes_a_trial_model_or_none(
    tmp_path: Path, model: Model, capsys: pytest.CaptureFixture[str]
) -> None:
    from regwatch.cli import main

    trial = tmp_path / "trial.json"
    model.at(0.0).save(trial)
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": 1, "lang": "en", "text": COOPERATION}) + "\n")
    outs = []
    for extra in (["--no-model"], ["--model", str(trial)]):
        assert main(["flag", str(docs), *extra]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert not any(s["rule"] == RULE for s in outs[0]["signals"])
    assert any(s["rule"] == RULE for s in outs[1]["signals"])


def test_each_category_has_its_own_threshold(model: Model) -> None:
    """A category raised at its own threshold: with every other category off, the stage
    raises only it."""
    fields = {"title": "", "text": COOPERATION}
    p = float(model.probabilities(COOPERATION, [model.categories.index("regional_cooperation")])[0])
    others = dict.fromkeys(model.categories, 1.0)
    on = dataclasses.replace(model, threshold=1.0, thresholds={**others, "regional_cooperation": p})
    assert [m.category for m in LearnedStage(on).signals(fields, "en", ())] == [
        "regional_cooperation"
    ]
    above = dataclasses.replace(on, thresholds={**on.thresholds, "regional_cooperation": p + 1e-3})
    assert LearnedStage(above).signals(fields, "en", ()) == []
    assert on.threshold_of("regional_cooperation") == p and on.threshold_of("x") == 1.0


def test_a_model_of_the_first_format_still_loads(tmp_path: Path, model: Model) -> None:
    """Format 1 had one threshold for every category and no ``thresholds``."""
    d = model.at(0.7).to_json()
    d["format"] = 1
    del d["thresholds"]
    old = tmp_path / "v1.json"
    old.write_text(json.dumps(d), encoding="utf-8")
    again = Model.load(old)
    assert again.thresholds == {} and again.threshold_of("draft_instrument") == 0.7
