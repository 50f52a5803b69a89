"""The learned stage: one logistic regression per category over a document's words and word
starts, beside the rules. It generalises from the real-text training split where the rules'
phrases do not reach (a governance body named by its role, cooperation stated as intent, a
draft named by its stage in the procedure, Kazakh or Uzbek wording no stem list covers).

Features are the words of the folded text (:func:`regwatch.nlp.text.spaced`: lowercase, ё→е,
apostrophes unified) and, for words longer than :data:`PREFIX`, their first ``PREFIX``
characters — a crude stem that works alike in all six languages. Weights are tf-idf (log
counts), L2-normalised per text. Training is full-batch gradient descent from zero with
balanced class weights, on a sparse matrix (the dense arithmetic, a tenth of the CPU): no
random state at all, so the same data gives the same weights.

A document reaches the model only where it can change the answer (see :class:`LearnedStage`):
the rules' prefilter selected units in it, or context labels the model names (``gate``, "ai")
occur in it; and only categories the rules did not flag are scored, each raised at its own
threshold (:meth:`Model.threshold_of`). A model signal carries the
sentence the model scores highest for the category, its offsets, the document's probability
as its score and a reason that names the stage: ``model: 0.83 for regional_cooperation``.

The artefact is one JSON file (nlp/models/learned.json), written by ``make train``
(:mod:`regwatch.nlp.train`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from regwatch.errors import ConfigError
from regwatch.nlp.evidence import Match
from regwatch.nlp.text import spaced

__all__ = [
    "DEFAULT_MODEL",
    "RULE",
    "LearnedStage",
    "Model",
    "features",
    "fit",
    "sentences",
]

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "learned.json"
RULE = "model"  # the ``rule`` of every signal the learned stage raises
PREFIX = 5  # characters of a word start kept as a feature
FORMAT = 2  # the artefact's format version (2 added per-category thresholds)
READS = (1, 2)  # the versions :meth:`Model.load` reads

Floats = npt.NDArray[np.float64]

# a sentence ends at . ! ? … followed by white space, or at a line break
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def features(text: str) -> list[str]:
    """Words (``w:``) and word starts of longer words (``p:``) of ``text``, folded."""
    out = []
    for w in spaced(text).split():
        out.append("w:" + w)
        if len(w) > PREFIX:
            out.append("p:" + w[:PREFIX])
    return out


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, white space at the ends left out."""
    out = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        if text[pos : m.start()].strip():
            out.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        out.append((pos, len(text.rstrip())))
    return out


@dataclass(frozen=True)
class Model:
    """Weights per category over a fixed vocabulary; ``thresholds`` the probability at which
    each category is raised (``threshold`` for a category not named; ``make train`` names
    every one, chosen by cross-validation on the real train split); ``gate`` the context labels
    that send a document to the model even when the rules' prefilter selected nothing in it."""

    categories: tuple[str, ...]
    vocab: dict[str, int]
    idf: Floats
    weights: Floats  # categories x vocabulary
    bias: Floats  # categories
    threshold: float = 0.5
    gate: tuple[str, ...] = ("ai",)
    meta: dict[str, Any] = field(default_factory=dict)
    # per category: the probability at which it is raised, where it differs from ``threshold``
    # (chosen by cross-validation on the real train split, see regwatch.nlp.train)
    thresholds: dict[str, float] = field(default_factory=dict)
    # the vocabulary split by kind (word, word start), for :meth:`spaced_vector`
    _words: dict[str, int] = field(init=False, repr=False, compare=False)
    _starts: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = {f[2:]: j for f, j in self.vocab.items() if f.startswith("w:")}
        starts = {f[2:]: j for f, j in self.vocab.items() if f.startswith("p:")}
        object.__setattr__(self, "_words", words)
        object.__setattr__(self, "_starts", starts)

    def threshold_of(self, category: str) -> float:
        """The probability at which ``category`` is raised."""
        return self.thresholds.get(category, self.threshold)

    def at(self, threshold: float) -> Model:
        """This model raising every category at ``threshold`` (a trial model)."""
        return dataclasses.replace(self, threshold=threshold, thresholds={})

    def vector(self, feats: Iterable[str]) -> tuple[npt.NDArray[np.intp], Floats]:
        """The known features' indices and their normalised tf-idf values."""
        return self._normalised(Counter(j for f in feats if (j := self.vocab.get(f)) is not None))

    def spaced_vector(self, folded: str) -> tuple[npt.NDArray[np.intp], Floats]:
        """:meth:`vector` of ``features(text)`` from ``folded`` = ``spaced(text)``, without
        building the feature strings: each distinct word is looked up once, with its count.
        The known features come in the same order (first occurrence) with the same counts,
        so the result is the same to the last bit."""
        counts: dict[int, int] = {}
        words, starts = self._words, self._starts
        for w, n in Counter(folded.split()).items():
            if (j := words.get(w)) is not None:
                counts[j] = n
            if len(w) > PREFIX and (j := starts.get(w[:PREFIX])) is not None:
                counts[j] = counts.get(j, 0) + n
        return self._normalised(counts)

    def _normalised(self, counts: Mapping[int, int]) -> tuple[npt.NDArray[np.intp], Floats]:
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        val = np.log1p(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        val *= self.idf[idx]
        return idx, val / np.linalg.norm(val)

    def probabilities(self, text: str, rows: Sequence[int] | None = None) -> Floats:
        """P(category | text) for every category (or the categories at ``rows``)."""
        return self._scores(self.vector(features(text)), rows)

    def spaced_probabilities(self, folded: str, rows: Sequence[int] | None = None) -> Floats:
        """:meth:`probabilities` of a text from its :func:`spaced` form."""
        return self._scores(self.spaced_vector(folded), rows)

    def _scores(
        self, vector: tuple[npt.NDArray[np.intp], Floats], rows: Sequence[int] | None
    ) -> Floats:
        idx, val = vector
        w = self.weights if rows is None else self.weights[list(rows)]
        b = self.bias if rows is None else self.bias[list(rows)]
        z = w[:, idx] @ val + b
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        words = sorted(self.vocab, key=self.vocab.__getitem__)
        return {
            "format": FORMAT,
            "categories": list(self.categories),
            "threshold": self.threshold,
            "thresholds": dict(sorted(self.thresholds.items())),
            "gate": list(self.gate),
            "meta": self.meta,
            "bias": [round(float(x), 5) for x in self.bias],
            "features": {
                f: [round(float(self.idf[j]), 4)] + [round(float(x), 5) for x in self.weights[:, j]]
                for f, j in zip(words, range(len(words)), strict=True)
            },
        }

    def save(self, path: Path | str) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        Path(path).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> Model:
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            if d.get("format") not in READS:
                raise ValueError(f"format {d.get('format')!r}, expected one of {READS}")
            feats: dict[str, list[float]] = d["features"]
            table = np.array(list(feats.values()), dtype=np.float64).reshape(len(feats), -1)
            cats = tuple(d["categories"])
            if table.shape[1] != len(cats) + 1:
                raise ValueError("a feature row does not hold one weight per category")
            return cls(
                categories=cats,
                vocab={f: j for j, f in enumerate(feats)},
                idf=table[:, 0].copy(),
                weights=np.ascontiguousarray(table[:, 1:].T),
                bias=np.array(d["bias"], dtype=np.float64),
                threshold=float(d["threshold"]),
                gate=tuple(d.get("gate", ())),
                meta=dict(d.get("meta", {})),
                thresholds={str(c): float(t) for c, t in d.get("thresholds", {}).items()},
            )
        except OSError as exc:
            raise ConfigError(
                f"learned stage: cannot read the model {path}: {exc.strerror}; "
                "run 'make train' to build it"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"learned stage: {path} is not a model file ({exc}); run 'make train' again"
            ) from None


def fit(
    texts: Sequence[str],
    labels: Sequence[Iterable[str]],
    categories: Sequence[str],
    *,
    l2: float = 1.0,
    iterations: int = 300,
    step: float = 4.0,
    min_df: int = 2,
) -> Model:
    """A model trained on ``texts`` with their category ``labels``. Deterministic: the
    vocabulary is sorted and the descent starts from zero, with no random state."""
    feats = [features(t) for t in texts]
    df: Counter[str] = Counter()
    for fs in feats:
        df.update(set(fs))
    words = sorted(f for f, n in df.items() if n >= min_df)
    vocab = {f: j for j, f in enumerate(words)}
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in words], dtype=np.float64)
    base = Model(tuple(categories), vocab, idf, np.zeros((0, len(words))), np.zeros(0))
    # the texts as a sparse matrix: row, column and value of every non-zero entry
    rows, cols, vals = [], [], []
    for i, fs in enumerate(feats):
        idx, val = base.vector(fs)
        rows.append(np.full(len(idx), i, dtype=np.intp))
        cols.append(idx)
        vals.append(val)
    row, col, val = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    d = len(words)
    sets = [set(ls) for ls in labels]
    weights = np.zeros((len(categories), d))
    bias = np.zeros(len(categories))
    for k, cat in enumerate(categories):
        y = np.array([1.0 if cat in s else 0.0 for s in sets])
        pos = y.sum()
        if not 0 < pos < n:
            raise ConfigError(f"learned stage: no positive or no negative example of {cat}")
        balance = np.where(y == 1, n / (2 * pos), n / (2 * (n - pos)))
        w, b = np.zeros(d), 0.0
        for _ in range(iterations):
            z = np.bincount(row, weights=val * w[col], minlength=n) + b
            g = (1.0 / (1.0 + np.exp(-z)) - y) * balance
            w -= step * (np.bincount(col, weights=val * g[row], minlength=d) + l2 * w) / n
            b -= step * float(g.mean())
        weights[k], bias[k] = w, b
    return Model(tuple(categories), vocab, idf, weights, bias)


class LearnedStage:
    """The model as a stage of the Flagger, after the rules."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.gate = frozenset(model.gate)
        self._row = {c: k for k, c in enumerate(model.categories)}
        self._threshold = [model.threshold_of(c) for c in model.categories]
        self.documents = 0  # documents scored so far (the bench reports the share)

    def reaches(self, selected: bool, context: Iterable[str]) -> bool:
        """Whether a document goes to the model: the rules' prefilter selected units in it
        (``selected``), or one of the model's gate labels is among its ``context`` labels."""
        return selected or not self.gate.isdisjoint(context)

    def signals(
        self,
        fields: Mapping[str, str],
        lang: str,
        flagged: Iterable[str],
        folded: str | None = None,
    ) -> list[Match]:
        """Signals for the categories not in ``flagged`` whose probability reaches their
        threshold, each with the sentence the model scores highest for it. ``folded`` is
        :func:`spaced` of the fields joined by newlines, when the caller has it (the
        prefilter's scan does)."""
        self.documents += 1
        done = set(flagged)
        rows = [k for c, k in self._row.items() if c not in done]
        if not rows:
            return []
        if folded is None:
            folded = spaced("\n".join(fields.values()))
        probs = self.model.spaced_probabilities(folded, rows)
        raised = [(k, float(p)) for k, p in zip(rows, probs, strict=True)]
        raised = [(k, p) for k, p in raised if p >= self._threshold[k]]
        if not raised:
            return []
        out = []
        for k, p in raised:
            best: tuple[float, str, int, int] | None = None
            for name, value in fields.items():
                for s0, s1 in sentences(value):
                    q = float(self.model.probabilities(value[s0:s1], [k])[0])
                    if best is None or q > best[0]:
                        best = (q, name, s0, s1)
            if best is None:
                continue
            _q, name, s0, s1 = best
            category = self.model.categories[k]
            sentence = fields[name][s0:s1]
            out.append(
                Match(
                    category=category,
                    rule=RULE,
                    field=name,
                    text=sentence,
                    start=s0,
                    end=s1,
                    sentence=sentence,
                    score=round(p, 3),
                    reason=f"model: {p:.2f} for {category}",
                    lang=lang,
                )
            )
        return out
