"""The `regwatch flag` path's shortcuts give the same bytes as the plain way: the learned stage
scoring from the prefilter's spaced text (no feature strings), and the JSON decoder and encoder
built once instead of per line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from regwatch.nlp.evaluate import DATA, load_examples
from regwatch.nlp.flag import Flagger
from regwatch.nlp.jsonl import _parse, dump_line, flag_lines, match_json
from regwatch.nlp.learned import LearnedStage, Model, features
from regwatch.nlp.text import spaced

# the edges of folding: a dotted capital I (two code points lowered), a final sigma at the
# joint, quotes opening a field, apostrophe look-alikes, ё, digits and symbols, no words
EDGES = [
    ("İstanbul ΟΔΟΣ", "'quoted' sunʼiy intellekt oʻzbek ёлка — 5G №1 emoji 🙂"),
    ("ΣΟΦΙΑΣ", "Σ word"),
    ("", "‘digital security’ and ''double''"),
    ("Title'", "'text"),
    ("", ""),
    ("…", "12 34 __ ''"),
]


def _texts() -> list[tuple[str, str]]:
    examples = load_examples([DATA / "real", DATA / "labelled", DATA / "heldout"])
    return [(e.title, e.text) for e in examples] + EDGES


@pytest.fixture(scope="module")
def model(flagger: Flagger) -> Model:
    assert flagger.model is not None
    return flagger.model


@pytest.fixture(scope="module")
def eager(flagger: Flagger, model: Model) -> Flagger:
    """The flagger with a model that raises far more often (a low threshold), so the
    comparisons below see many model signals, sentences and scores."""
    low = model.at(0.15)
    return Flagger(flagger.rules, nlp=flagger.nlp, min_score=flagger.min_score, model=low)


def test_the_spaced_vector_is_the_features_vector_to_the_last_bit(model: Model) -> None:
    for title, text in _texts():
        joined = f"{title}\n{text}"
        folded = " ".join(map(spaced, (title, text)))  # what the prefilter's scan holds
        assert folded == spaced(joined)
        idx, val = model.vector(features(joined))
        fast_idx, fast_val = model.spaced_vector(folded)
        assert np.array_equal(idx, fast_idx) and np.array_equal(val, fast_val)
        assert np.array_equal(
            model.probabilities(joined, [0, 2, 3]), model.spaced_probabilities(folded, [0, 2, 3])
        )


def test_model_signals_from_the_scan_equal_the_plain_ones(eager: Flagger) -> None:
    assert isinstance(eager.learned, LearnedStage)
    raised = 0
    for title, text in _texts():
        fields = {"title": title, "text": text}
        folded = " ".join(map(spaced, fields.values()))
        plain = eager.learned.signals(fields, "en", set())
        assert eager.learned.signals(fields, "en", set(), folded) == plain
        raised += len(plain)
    assert raised > 50  # the comparison saw real model signals


def test_the_prebuilt_decoder_reads_and_refuses_as_json_loads() -> None:
    lines = [
        json.dumps({"id": 1, "text": "Мажилис"}),
        json.dumps({"id": 1, "text": "Мажилис"}, ensure_ascii=False),
        "\ufeff" + json.dumps({"id": 2, "text": "a BOM past the first line"}),
        '{"id": 3, "text": NaN}',
        '{"id": 4, "text": "x", "score": Infinity}',
        "{broken",
        '{"id": 5, "text": "x"} trailing',
        "[" * 100_000,
        '{"id": 6, "text": "\\ud800 lone"}',
        "",
    ]

    def plain(line: str) -> object:
        try:
            item = json.loads(line, parse_constant=lambda c: float("nan") / 0)
        except json.JSONDecodeError as exc:
            return f"not JSON: {exc.msg} at column {exc.colno}"
        except RecursionError:
            return "not JSON: nested too deeply"
        except (ValueError, ZeroDivisionError):
            return "constant"
        return item

    for n, line in enumerate(lines, 1):
        _n, item, error = _parse(n, line)
        expected = plain(line)
        if expected == "constant":
            assert error is not None and "is not JSON" in error
        elif isinstance(expected, str):
            assert error == expected
        elif isinstance(expected, dict):
            assert item == expected


def test_the_output_lines_are_json_dumps_byte_for_byte(eager: Flagger) -> None:
    flagger = eager
    texts = _texts()
    lines = [
        json.dumps({"id": i, "title": t, "text": x}, ensure_ascii=i % 2 == 0)
        for i, (t, x) in enumerate(texts)
    ]
    written = [dump_line(o) for o in flag_lines(lines, flagger)]
    reference = []
    for i, (title, text) in enumerate(texts):
        out = next(flag_lines([lines[i]], flagger))
        signals = [match_json(m) for m in flagger.flag(title, text, out["lang"])]
        assert out["signals"] == signals
        reference.append(
            json.dumps(
                {"id": i, "lang": out["lang"], "signals": signals},
                ensure_ascii=False,
                allow_nan=False,
            )
            + "\n"
        )
    assert written == reference
    assert sum('"rule": "model"' in w for w in written) > 20
