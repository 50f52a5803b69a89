"""Run current (or trial) rules over the stored documents and report the signals that would be
added, removed or re-scored; writes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store import models as m

log = logging.getLogger("regwatch.pipeline")


SignalKey = tuple[str, str, str, int, int]  # category, rule, field, start, end
BACKTEST_BATCH = 500


@dataclass
class BacktestReport:
    """What the current rules would add to, remove from or re-score in the stored signals."""

    documents: int = 0
    added: list[tuple[int, SignalKey, str]] = field(default_factory=list)
    removed: list[tuple[int, SignalKey, str]] = field(default_factory=list)
    rescored: list[tuple[int, SignalKey, float, float]] = field(default_factory=list)
    unchanged: int = 0

    def lines(self, show: int = 20) -> list[str]:
        out = [
            f"backtest over {self.documents} documents: {len(self.added)} signals would be "
            f"added, {len(self.removed)} removed, {len(self.rescored)} re-scored, "
            f"{self.unchanged} unchanged"
        ]
        by_cat: dict[str, list[int]] = {}
        keys: tuple[list[SignalKey], ...] = (
            [k for _d, k, _t in self.added],
            [k for _d, k, _t in self.removed],
            [k for _d, k, _o, _n in self.rescored],
        )
        for i, changed in enumerate(keys):
            for key in changed:
                by_cat.setdefault(key[0], [0, 0, 0])[i] += 1
        out += [f"  {cat}: +{a} -{r} ~{c}" for cat, (a, r, c) in sorted(by_cat.items())]
        for sign, changes in (("+", self.added), ("-", self.removed)):
            out += [
                f"{sign} document {doc} {key[1]} {key[2]}[{key[3]}:{key[4]}] {text!r}"
                for doc, key, text in changes[:show]
            ]
        out += [
            f"~ document {doc} {key[1]} {key[2]}[{key[3]}:{key[4]}] score {old} -> {new}"
            for doc, key, old, new in self.rescored[:show]
        ]
        return out


def backtest(engine: Engine, flagger: Flagger, limit: int | None = None) -> BacktestReport:
    """Run ``flagger`` over every stored document's current version, in batches, and compare
    with the signals stored for it (presence and score). Nothing is written."""
    report = BacktestReport()
    stmt = (
        select(m.Document.id, m.Document.lang, m.DocumentVersion.id)
        .join(
            m.DocumentVersion,
            (m.DocumentVersion.document_id == m.Document.id)
            & (m.DocumentVersion.version == m.Document.version),
        )
        .order_by(m.Document.last_seen_at.desc(), m.Document.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    with db.session_scope(engine) as session:
        ids = [(d, lang, v) for d, lang, v in session.execute(stmt)]
    for i in range(0, len(ids), BACKTEST_BATCH):
        _backtest_batch(engine, flagger, ids[i : i + BACKTEST_BATCH], report)
    return report


def _backtest_batch(
    engine: Engine,
    flagger: Flagger,
    batch: list[tuple[int, str | None, int]],
    report: BacktestReport,
) -> None:
    version_ids = [v for _d, _l, v in batch]
    with db.session_scope(engine) as session:
        texts = {
            v.id: (v.title, v.text)
            for v in session.scalars(
                select(m.DocumentVersion).where(m.DocumentVersion.id.in_(version_ids))
            )
        }
        stored: dict[int, dict[SignalKey, tuple[str, float]]] = {}
        for sig in session.scalars(select(m.Signal).where(m.Signal.version_id.in_(version_ids))):
            key = (sig.category, sig.rule, sig.field, sig.start, sig.end)
            stored.setdefault(sig.version_id, {})[key] = (sig.text, sig.score)
    for doc_id, lang, version_id in batch:
        title, text = texts[version_id]
        report.documents += 1
        now = {
            (x.category, x.rule, x.field, x.start, x.end): (x.text, x.score)
            for x in flagger.flag(title, text, lang)
        }
        before = stored.get(version_id, {})
        report.added += [(doc_id, k, t) for k, (t, _s) in now.items() if k not in before]
        report.removed += [(doc_id, k, t) for k, (t, _s) in before.items() if k not in now]
        for k in now.keys() & before.keys():
            if abs(now[k][1] - before[k][1]) > 1e-9:
                report.rescored.append((doc_id, k, before[k][1], now[k][1]))
            else:
                report.unchanged += 1
