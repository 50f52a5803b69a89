"""``regwatch train``'s guard: the model in place is kept when the retrained one scores lower
micro-F1 on the real dev split. Deterministic: the model in place was fitted on the dev split
itself (it knows dev by heart), which no model trained on the train split matches."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from regwatch.nlp.evaluate import Example, load_examples
from regwatch.nlp.learned import fit
from regwatch.nlp.rules import load_rules
from regwatch.nlp.train import REAL, retrain


def test_retrain_refuses_to_replace_a_model_dev_prefers(tmp_path: Path) -> None:
    dev = [ex for ex in load_examples([REAL]) if ex.split == "dev"]
    categories = sorted(load_rules().categories)
    # one example of every category so each has positives and negatives
    anchor = [Example(f"a-{c}", "en", "", c.replace("_", " "), frozenset({c})) for c in categories]
    texts = [f"{ex.title}\n{ex.text}" for ex in [*dev, *anchor]]
    labels = [ex.labels for ex in [*dev, *anchor]]
    by_heart = dataclasses.replace(fit(texts, labels, categories, min_df=1), threshold=0.5)
    out = tmp_path / "model.json"
    by_heart.save(out)
    kept = out.read_bytes()
    extra = [Example("fb-1", "", "", "Курсы цифровой безопасности для школьников.", frozenset())]
    done = retrain(extra, out, team=tmp_path / "no-team-set")  # a smaller fit, same guard
    assert not done.replaced
    assert done.after < done.before
    assert out.read_bytes() == kept
    assert any(line.startswith("refused: dev micro-F1 would fall") for line in done.lines)
    assert "and 1 from feedback" in "\n".join(done.lines)
