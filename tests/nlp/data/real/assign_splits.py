"""How the real-text set's fixed split was assigned (GUIDE.md, "Split").

    python tests/nlp/data/real/assign_splits.py          # print what it would assign
    python tests/nlp/data/real/assign_splits.py --write  # rewrite the `split` fields

Stories in order of size (labels + records, ties by the slug's SHA-1), each to the split furthest
below its share (60 / 20 / 20) on the story's labels, hard negatives and languages. A story never
straddles two splits. Run once when the set was built; re-running on the same records gives the
same split, so a test can check that the stored split is this one.

Records added later (no ``split`` yet; they carry ``"added": <round>``) never change a story already placed and never go to test:
a new record of a known story joins that story's split (one that would join a test story is
refused — collect another), and new stories go to train or dev (75 / 25) the same greedy way.
The test split stays the one that was fixed when the set was built.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARES = {"train": 0.6, "dev": 0.2, "test": 0.2}


def load(folder: Path = HERE) -> dict[Path, list[dict[str, Any]]]:
    return {
        f: [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line]
        for f in sorted(folder.glob("*.jsonl"))
    }


def _keys(records: list[dict[str, Any]]) -> Counter[str]:
    k: Counter[str] = Counter(c for r in records for c in r["labels"])
    k["hard_negative"] += sum(bool(r["hard_negative"] and not r["labels"]) for r in records)
    for r in records:
        k["lang:" + r["lang"]] += 1
    return k


def assign(records: list[dict[str, Any]]) -> dict[str, str]:
    """story slug → split."""
    if any(not r.get("split") for r in records) and any(r.get("split") for r in records):
        return _assign_new(records)
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        stories[r["story"]].append(r)
    total: Counter[str] = Counter()
    for rs in stories.values():
        total += _keys(rs)
    n_total = len(records)
    have = {s: Counter[str]() for s in SHARES}
    count = dict.fromkeys(SHARES, 0)

    def size(slug: str) -> tuple[int, str]:
        rs = stories[slug]
        return (
            -sum(len(r["labels"]) for r in rs) - len(rs),
            hashlib.sha1(slug.encode()).hexdigest(),
        )

    out: dict[str, str] = {}
    for slug in sorted(stories, key=size):
        k = _keys(stories[slug])

        def need(split: str, k: Counter[str] = k) -> tuple[float, float]:
            share = SHARES[split]
            gap = sum(
                v * (share * total[key] - have[split][key]) / total[key] for key, v in k.items()
            )
            return gap + (share * n_total - count[split]) / n_total, share

        best = max(SHARES, key=need)
        out[slug] = best
        have[best] += k
        count[best] += len(stories[slug])
    return out


def _assign_new(records: list[dict[str, Any]]) -> dict[str, str]:
    """Keep every placed story where it is; new stories to train or dev."""
    fixed = {r["story"]: r["split"] for r in records if r.get("split")}
    new = [r for r in records if not r.get("split") and r["story"] not in fixed]
    joining_test = sorted(
        r["id"] for r in records if not r.get("split") and fixed.get(r["story"]) == "test"
    )
    if joining_test:
        raise SystemExit(f"these new records belong to test stories; drop them: {joining_test}")
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in new:
        stories[r["story"]].append(r)
    shares = {"train": 0.75, "dev": 0.25}
    total: Counter[str] = Counter()
    have = {s: Counter[str]() for s in shares}
    for r in records:  # what train and dev hold already counts toward their shares
        if r.get("split") in shares:
            have[r["split"]] += _keys([r])
        if r.get("split") != "test":
            total += _keys([r])
    out = dict(fixed)
    for slug in sorted(
        stories, key=lambda s: (-len(stories[s]), hashlib.sha1(s.encode()).hexdigest())
    ):
        k = _keys(stories[slug])

        def need(split: str, k: Counter[str] = k) -> tuple[float, float]:
            gap = sum(
                v * (shares[split] * total[key] - have[split][key]) / total[key]
                for key, v in k.items()
            )
            return gap, shares[split]

        best = max(shares, key=need)
        out[slug] = best
        have[best] += k
    return out


def main(argv: list[str]) -> int:
    files = load()
    records = [r for rs in files.values() for r in rs]
    if any(not r.get("split") for r in records):
        splits = assign(records)  # place the new records; nothing placed moves
    else:  # check: the first round's split is the greedy one, added records keep theirs
        splits = assign([r for r in records if "added" not in r])
        splits |= {r["story"]: r["split"] for r in records if "added" in r}
    changed = sum(r.get("split") != splits[r["story"]] for r in records)
    print(f"{len(records)} records, {len(splits)} stories; {changed} records would change split")
    if "--write" in argv:
        for f, rs in files.items():
            for r in rs:
                r["split"] = splits[r["story"]]
            f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
