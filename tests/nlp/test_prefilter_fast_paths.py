"""The prefilter's shortcuts give what the plain way gives: requirements checked in and near
the anchors' units with each token's stems looked up once per requirement and one binary search
per stem list (``_within``, ``TermSet.units``), against the plain loops they replaced, on the
scans of every test set, the bench corpus and random hits; and the first-word scan's start
positions (``TriggerIndex.starts``) against the positions of a full scan."""

from __future__ import annotations

import bisect
import random
import sys
from collections import defaultdict
from collections.abc import Collection, Sequence
from collections.abc import Set as AbstractSet

import pytest

from bench.corpus import generate
from regwatch.nlp import Flagger
from regwatch.nlp.evaluate import DEFAULT_SETS, load_examples
from regwatch.nlp.prefilter import TOKEN_SPAN, Hits, TermSet, _within
from regwatch.nlp.stems import Requirement
from regwatch.nlp.text import spaced, split_units


def _any_between(sorted_positions: Sequence[int], lo: int, hi: int) -> bool:
    k = bisect.bisect_left(sorted_positions, lo)
    return k < len(sorted_positions) and sorted_positions[k] <= hi


def _within_plain(
    req: Requirement,
    anchors: list[int],
    hits: Hits,
    first: int = 0,
    last: int = sys.maxsize,
    *,
    every: bool = False,
) -> list[int]:
    """``_within`` as it was first written: the reference."""
    base = req[0][1]
    others: list[tuple[list[list[int]], int]] = []
    for alts, index in req[1:]:
        found = [hits[a] for a in alts if a in hits]
        if not found:
            return []
        others.append((found, index - base))
    met = []
    for p in anchors:
        for found, delta in others:
            lo, hi = (
                (p + 1, p + TOKEN_SPAN * delta) if delta > 0 else (p + TOKEN_SPAN * delta, p - 1)
            )
            lo, hi = max(lo, first), min(hi, last)
            if not any(_any_between(positions, lo, hi) for positions in found):
                break
        else:
            met.append(p)
            if not every:
                break
    return met


def _units_plain(
    ts: TermSet, hits: Hits, units: Sequence[tuple[int, int]], labels: Collection[str]
) -> list[tuple[int, int, dict[str, list[int]]]]:
    """``TermSet.units`` as it was first written: the reference."""
    starts = [u0 for u0, _u1 in units]
    met: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for label in labels:
        if label in ts.always:
            for k in range(len(units)):
                met[k][label] = []
            continue
        anchors = ts.by_label.get(label, {})
        for stem in anchors.keys() & hits.keys():
            positions = hits[stem]
            groups = []
            i = 0
            while i < len(positions):
                k = bisect.bisect_right(starts, positions[i]) - 1
                if k < 0:
                    i += 1
                    continue
                j = bisect.bisect_left(positions, units[k][1], i)
                if j > i:
                    groups.append((k, positions[i:j]))
                i = max(j, i + 1)
            for req in anchors[stem]:
                for k, at in groups:
                    u0, u1 = units[k]
                    met_at = _within_plain(req, at, hits, u0, u1 - 1, every=True)
                    if met_at:
                        met[k].setdefault(label, []).extend(met_at)
    return [(*units[k], met[k]) for k in sorted(met)]


def _present_plain(ts: TermSet, keys: AbstractSet[str]) -> set[str]:
    """``TermSet.present`` as it was first written: the reference."""
    found = set(ts.always)
    for stem in keys & ts._single.keys():
        found |= ts._single[stem]
    for stem in keys & ts._by_pair.keys():
        pairs = ts._by_pair[stem]
        for second in pairs.keys() & keys:
            for label, req, _reach in pairs[second]:
                if label not in found and all(any(a in keys for a in alts) for alts, _i in req[1:]):
                    found.add(label)
    return found


def _documents() -> list[dict[str, str]]:
    docs = [{"title": e.title, "text": e.text} for e in load_examples(DEFAULT_SETS)]
    return docs + [{"title": t, "text": x} for _l, t, x in generate(0.5, seed=23)]


def test_units_and_met_equal_the_plain_loops(flagger: Flagger) -> None:
    prefilter = flagger._prefilter
    triggers = prefilter._triggers
    compared = 0
    for fields in _documents():
        scan = prefilter.scan(fields)
        labels = set(prefilter._conditions)  # every rule, whatever the context
        units = split_units(scan.joined)
        fast = triggers.units(scan.hits, units, labels)
        assert fast == _units_plain(triggers, scan.hits, units, labels), fields["title"]
        compared += len(fast)
        for label in triggers.met(scan.hits, labels):
            for stem, reqs in triggers.by_label[label].items():
                for req in reqs:
                    anchors = scan.hits.get(stem, [])
                    for every in (False, True):
                        got = _within(req, anchors, scan.hits, every=every)
                        assert got == _within_plain(req, anchors, scan.hits, every=every)
    assert compared > 300  # units with labels met in them, to compare


def test_present_and_possible_equal_the_plain_loops(flagger: Flagger) -> None:
    prefilter = flagger._prefilter
    contexts = set()
    for fields in _documents():
        scan = prefilter.scan(fields)
        for ts in (prefilter._context, prefilter._triggers):
            assert ts.present(scan.hits.keys()) == _present_plain(ts, scan.hits.keys())
        contexts.add(scan.context)
    labels = {label for n in prefilter._conditions.values() for s in n for label in s}
    rng = random.Random(2)
    contexts |= {frozenset(rng.sample(sorted(labels), rng.randint(0, 8))) for _ in range(500)}
    for context in contexts:
        plain = frozenset(
            label
            for label, needs in prefilter._conditions.items()
            if all(not n.isdisjoint(context) for n in needs)
        )
        assert prefilter.possible(context) == plain
    assert len(contexts) > 100


@pytest.mark.parametrize("seed", range(4))
def test_within_equals_the_plain_loop_on_random_hits(seed: int) -> None:
    """Random requirements of one to four tokens (any order of token indices, one to three
    stems each) against random positions, windows and bounds."""
    rng = random.Random(seed)
    stems = [f"s{i}" for i in range(8)]
    for _ in range(3000):
        hits: Hits = {
            s: sorted(rng.sample(range(400), rng.randint(1, 12)))
            for s in stems
            if rng.random() < 0.7
        }
        indices = rng.sample(range(6), rng.randint(1, 4))
        req = tuple((tuple(rng.sample(stems, rng.randint(1, 3))), i) for i in indices)
        anchors = sorted(rng.sample(range(400), rng.randint(0, 10)))
        first, last = sorted(rng.sample(range(-10, 420), 2))
        for every in (False, True):
            assert _within(req, anchors, hits, first, last, every=every) == _within_plain(
                req, anchors, hits, first, last, every=every
            )
            assert _within(req, anchors, hits, every=every) == _within_plain(
                req, anchors, hits, every=every
            )


def test_first_word_starts_equal_a_full_scan(flagger: Flagger) -> None:
    index = flagger._terms._firsts
    texts = [spaced(f"{d['title']}\n{d['text']}") for d in _documents()]
    texts += ["", " ", "'", "a" * 70]
    for text in texts:
        full = sorted({p for positions in index.scan(text).values() for p in positions})
        assert index.starts(text) == full
    assert sum(map(len, map(index.starts, texts))) > 10_000
