"""Measure instrument linking on a labelled set: pairwise precision and recall.

A set is JSON Lines, one document a line: ``{"id", "instrument" (the label: which
instrument it is about, or null), "source", "country", "lang", "published" (ISO date), "url",
"title", "text"}`` and, for a portal's page, ``"portal"``: the :class:`InstrumentFacts` its
spider would attach. The documents go through the real ingest path (flagger, dedupe, linking,
store) into a throwaway SQLite database; then every pair of documents is judged: linked to
one instrument by regwatch and about one instrument by its labels (true positive), linked
but not about one (false positive), about one but not linked (false negative).

    python -m regwatch.instruments.evaluate [FILE …] [-v]        (``make eval``)

``-v`` lists the wrong pairs with the reason each document was linked.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from regwatch.crawlers import Document
from regwatch.errors import ConfigError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage

__all__ = [
    "DEFAULT_SET",
    "DEFAULT_SETS",
    "HELDOUT",
    "Labelled",
    "LinkingScore",
    "evaluate",
    "load_set",
    "main",
]

DATA = Path(__file__).resolve().parents[1] / "tests" / "instruments" / "data" / "linking"
DEFAULT_SET = DATA / "set.jsonl"  # written while building the linker (its dev set)
HELDOUT = DATA / "heldout.jsonl"  # written after, measured once the linker was frozen
DEFAULT_SETS = (DEFAULT_SET, HELDOUT)
_DATES = ("stage_date", "consultation_start", "consultation_end")


@dataclass(frozen=True)
class Labelled:
    id: str
    instrument: str | None
    doc: Document
    country: str
    part: str = ""  # the file it came from (its stem)


def _facts(raw: dict[str, Any]) -> InstrumentFacts:
    values = dict(raw)
    for key in _DATES:
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    if values.get("stage"):
        values["stage"] = Stage(values["stage"])
    return InstrumentFacts(**values)


def load_set(path: Path) -> list[Labelled]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            published = datetime.fromisoformat(r["published"]).replace(tzinfo=UTC)
            doc = Document(
                url=r["url"],
                title=r["title"],
                text=r["text"],
                source=r["source"],
                published=published,
                lang=r.get("lang"),
                fetched_at=max(published, datetime.now(UTC)),
                instrument=_facts(r["portal"]) if r.get("portal") else None,
            )
            out.append(Labelled(r["id"], r.get("instrument"), doc, r["country"], path.stem))
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"instruments: {path}:{n} is not a linking record ({exc}); see the module "
                "docstring of regwatch.instruments.evaluate for the fields"
            ) from None
    return out


@dataclass
class LinkingScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    linked: int = 0  # documents linked to some instrument
    labelled: int = 0  # documents labelled with an instrument
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(records: Sequence[Labelled]) -> dict[str, LinkingScore]:
    """Ingest ``records`` (in order) into a fresh database and score the links: ``"all"``
    the pairs, and per part (file) the pairs with at least one document of that part."""
    from regwatch.nlp import Flagger
    from regwatch.pipeline.ingest import ingest
    from regwatch.store import db
    from regwatch.store.instruments import instruments_of_document
    from regwatch.store.sources import SourceSpec, sync_sources

    flagger = Flagger.from_folder(min_score=0.3)  # the stored-signal floor of config.toml
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/linking.db")
        try:
            db.upgrade(engine)
            sources = {r.doc.source: r for r in records}
            with db.session_scope(engine) as s:
                sync_sources(
                    s,
                    [
                        SourceSpec(
                            name,
                            f"https://{name}.example/",
                            "html",
                            r.country,
                            (r.doc.lang or "ru",),
                            "news",
                        )
                        for name, r in sorted(sources.items())
                    ],
                )
            ids: dict[str, int] = {}
            for record, (_, result) in zip(
                records, ingest(engine, flagger, [r.doc for r in records]), strict=True
            ):
                if isinstance(result, Exception):
                    raise result
                ids[record.id] = result.document_id
            links: dict[str, tuple[int, str] | None] = {}
            with db.session_scope(engine) as s:
                for record in records:
                    found = [
                        d
                        for d in instruments_of_document(s, ids[record.id])
                        if d.status == "linked"
                    ]
                    links[record.id] = (found[0].instrument_id, found[0].reason) if found else None
        finally:
            engine.dispose()
    parts = sorted({r.part for r in records})
    scores = {"all": LinkingScore(), **{p: LinkingScore() for p in parts if len(parts) > 1}}
    for name, score in scores.items():
        mine = [r for r in records if name in ("all", r.part)]
        score.linked = sum(1 for r in mine if links[r.id])
        score.labelled = sum(1 for r in mine if r.instrument)
    for a, b in combinations(records, 2):
        for name, score in scores.items():
            if name in ("all", a.part, b.part):
                _judge(score, a, b, links[a.id], links[b.id])
    return scores


def _judge(
    score: LinkingScore,
    a: Labelled,
    b: Labelled,
    la: tuple[int, str] | None,
    lb: tuple[int, str] | None,
) -> None:
    predicted = la is not None and lb is not None and la[0] == lb[0]
    gold = a.instrument is not None and a.instrument == b.instrument
    if predicted and gold:
        score.tp += 1
    elif predicted:
        score.fp += 1
        score.wrong.append(f"linked, not one instrument: {a.id} + {b.id} ({lb and lb[1]})")
    elif gold:
        score.fn += 1
        why = f"{a.id}: {la[1] if la else 'not linked'}; {b.id}: {lb[1] if lb else 'not linked'}"
        score.wrong.append(f"one instrument, not linked: {why}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args
    paths = [Path(a) for a in args if a != "-v"] or list(DEFAULT_SETS)
    records = [r for path in paths for r in load_set(path)]
    instruments = len({r.instrument for r in records if r.instrument})
    print(
        f"instrument linking — {', '.join(str(p) for p in paths)}: {len(records)} documents "
        f"about {instruments} instruments, ingested in order into one database"
    )
    for name, score in evaluate(records).items():
        what = "all pairs" if name == "all" else f"pairs with a document of {name}"
        print(
            f"  {what:<36} precision {score.precision:.3f}  recall {score.recall:.3f}  "
            f"(pairs: {score.tp} right, {score.fp} wrongly linked, {score.fn} missed; "
            f"{score.linked} of {score.labelled + 0} labelled documents linked)"
        )
        if verbose and name != "all":
            for line in score.wrong:
                print(f"    {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
