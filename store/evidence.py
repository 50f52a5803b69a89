"""Evidence that survives: each capture a signal was read from, as a .warc.gz file in the
evidence folder named by its SHA-256, a ``captures`` row per file and a ``document_captures``
row per document version it serves.

A file is written before its row, and atomically: to a temporary name in its folder, fsynced,
renamed to ``<sha256>.warc.gz``, the folder fsynced — so a crash never leaves a row without
its file, and a file without a row (the ingest's transaction failed, or a crash came between
the two) is an orphan that ``verify`` reports and :func:`prune` removes once it is an hour
old. Content addressing stores a feed's one capture once for all its items, and storing the
same file again (a replay) is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy import Engine, Table, and_, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from regwatch.crawlers.exchange import Capture
from regwatch.errors import EvidenceError
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.documents import batched
from regwatch.store.warc import to_warc

__all__ = [
    "ORPHAN_GRACE",
    "EvidenceStore",
    "PruneReport",
    "StoredCapture",
    "VerifyReport",
    "captures_of",
    "export",
    "link",
    "prune",
    "verify",
]

SUFFIX = ".warc.gz"
ORPHAN_GRACE = timedelta(hours=1)  # a file without a row younger than this may be mid-ingest
_CACHE = 64  # captures remembered per store: a feed's items ask for the same one in turn
_READ = 1 << 20


@dataclass(frozen=True)
class StoredCapture:
    """A capture file in the evidence folder, and what its row says of it."""

    sha256: str
    size: int
    url: str
    captured_at: datetime
    records: int


class EvidenceStore:
    """The evidence folder: writes captures as content-addressed .warc.gz files."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._written: OrderedDict[int, tuple[Capture, StoredCapture]] = OrderedDict()

    def path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}{SUFFIX}"

    def put(self, capture: Capture) -> StoredCapture:
        """Write ``capture`` (once per Capture object: a feed's items share theirs)."""
        with self._lock:
            known = self._written.get(id(capture))
            if known is not None and known[0] is capture:
                self._written.move_to_end(id(capture))
                return known[1]
        data, records = to_warc(capture)
        sha = hashlib.sha256(data).hexdigest()
        self._write(sha, data)
        stored = StoredCapture(sha, len(data), capture.url, capture.captured_at, records)
        with self._lock:
            self._written[id(capture)] = (capture, stored)  # the reference keeps id() unique
            while len(self._written) > _CACHE:
                self._written.popitem(last=False)
        return stored

    def _write(self, sha: str, data: bytes) -> None:
        target = self.path(sha)
        try:
            if target.is_file() and target.stat().st_size == len(data):
                return  # the same bytes are there already (content-addressed)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.parent / f".{sha}.{os.getpid()}.{threading.get_ident()}.tmp"
            try:
                with open(temp, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)  # gone after the rename; a failed write's leftover
            _fsync_dir(target.parent)
        except OSError as exc:
            raise EvidenceError(
                f"evidence: cannot write {target} ({exc.strerror or exc}); check that "
                f"evidence.dir ({self.folder}) exists and is writable, or set "
                "evidence.enabled = false"
            ) from None

    def read(self, sha256: str) -> bytes:
        """A capture file's bytes, after checking them against their name."""
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise EvidenceError(
                f"evidence: capture {sha256[:12]}… is missing ({path}: {exc.strerror or exc}); "
                "run 'regwatch evidence verify'"
            ) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceError(
                f"evidence: capture {path} does not match its SHA-256 (changed on disk); "
                "run 'regwatch evidence verify'"
            )
        return data

    def files(self) -> Iterator[Path]:
        """Every file in the folder's fan-out directories (captures and leftovers)."""
        if not self.folder.is_dir():
            return
        for sub in sorted(self.folder.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                yield from sorted(p for p in sub.iterdir() if p.is_file())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link(session: Session, pairs: Sequence[tuple[int, StoredCapture]]) -> None:
    """Each document's current version was read from its capture: the ``captures`` rows
    (once per file) and the links, inside the caller's (ingest's) write transaction. Linking
    again what is linked is a no-op."""
    if not pairs:
        return
    C, L = m.Capture, m.DocumentCapture
    by_sha = {c.sha256: c for _, c in pairs}
    ids = dict(session.execute(select(C.sha256, C.id).where(C.sha256.in_(list(by_sha)))).all())
    missing = [c for sha, c in by_sha.items() if sha not in ids]
    if missing:
        now = m.utcnow()
        rows = [
            {
                "sha256": c.sha256,
                "url": c.url,
                "captured_at": c.captured_at,
                "size": c.size,
                "records": c.records,
                "stored_at": now,
            }
            for c in missing
        ]
        table = cast(Table, C.__table__)
        new = session.execute(
            insert(table).returning(table.c.sha256, table.c.id, sort_by_parameter_order=True),
            rows,
        ).all()
        ids.update(dict(new))
    wanted = {(doc_id, ids[c.sha256]) for doc_id, c in pairs}
    docs = sorted({d for d, _ in wanted})
    have = set(
        session.execute(select(L.document_id, L.capture_id).where(L.document_id.in_(docs))).all()
    )
    versions: dict[int, int] = {
        d: v
        for d, v in session.execute(
            select(m.Document.id, m.Document.version).where(m.Document.id.in_(docs))
        )
    }
    new_links = [
        {"document_id": d, "capture_id": c, "version": versions[d]}
        for d, c in sorted(wanted - have)
    ]
    if new_links:
        session.execute(insert(cast(Table, L.__table__)), new_links)


@dataclass(frozen=True)
class CaptureRow:
    id: int
    sha256: str
    url: str
    captured_at: datetime
    size: int
    records: int
    version: int  # the document's version it was read into


def captures_of(session: Session, document_id: int) -> list[CaptureRow]:
    """A document's captures, oldest first."""
    C, L = m.Capture, m.DocumentCapture
    rows = session.execute(
        select(C.id, C.sha256, C.url, C.captured_at, C.size, C.records, L.version)
        .join(L, L.capture_id == C.id)
        .where(L.document_id == document_id)
        .order_by(C.captured_at, C.id)
    )
    return [CaptureRow(*r) for r in rows]


def export(session: Session, store: EvidenceStore, document_id: int, out: BinaryIO) -> int:
    """Write every capture of a document to ``out`` as one .warc.gz (gzip members in a
    row); the number of captures. Raise EvidenceError when it has none or one is missing or
    changed on disk."""
    rows = captures_of(session, document_id)
    if not rows:
        if session.get(m.Document, document_id) is None:
            raise EvidenceError(f"evidence: there is no document {document_id}")
        raise EvidenceError(
            f"evidence: document {document_id} has no capture (only documents that raised a "
            "signal while evidence.enabled was on keep one)"
        )
    for row in rows:
        out.write(store.read(row.sha256))
    return len(rows)


@dataclass
class VerifyReport:
    checked: int = 0
    bytes: int = 0
    mismatched: list[str] = field(default_factory=list)  # files whose hash is not their name
    missing: list[str] = field(default_factory=list)  # rows whose file is gone
    orphans: list[str] = field(default_factory=list)  # files without a row

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing)

    def lines(self) -> list[str]:
        out = [f"checked {self.checked} captures ({self.bytes} bytes)"]
        out += [f"MISMATCH {p}: its SHA-256 is not the one stored" for p in self.mismatched]
        out += [
            f"MISSING {p}: the database lists it, the folder has no such file" for p in self.missing
        ]
        out += [f"orphan {p}: no row (a failed ingest's leftover; pruned)" for p in self.orphans]
        return out


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


def verify(engine: Engine, store: EvidenceStore) -> VerifyReport:
    """Re-hash every stored capture against its row; name the missing and the orphans."""
    report = VerifyReport()
    with db.session_scope(engine) as session:
        rows = session.execute(select(m.Capture.sha256, m.Capture.size)).all()
    known = set()
    for sha, size in rows:
        path = store.path(sha)
        known.add(path.name)
        if not path.is_file():
            report.missing.append(str(path))
            continue
        report.checked += 1
        report.bytes += path.stat().st_size
        if _sha256_of(path) != sha or path.stat().st_size != size:
            report.mismatched.append(str(path))
    report.orphans = [str(p) for p in store.files() if p.name not in known]
    return report


@dataclass
class PruneReport:
    captures: int = 0  # rows and files deleted
    bytes: int = 0
    orphans: int = 0  # files without a row deleted


def prune(
    engine: Engine, store: EvidenceStore, retention_days: int, now: datetime | None = None
) -> PruneReport:
    """Delete captures older than ``retention_days`` (0: keep them all) — except a document's
    newest capture while the document still has signals, which stays however old — and the
    orphan files older than :data:`ORPHAN_GRACE`. Rows go first (committed), then files: a
    crash between leaves orphans for the next run, never a row without its file."""
    now = now or m.utcnow()
    report = PruneReport()
    doomed: list[tuple[str, int]] = []
    if retention_days > 0:
        cutoff = now - timedelta(days=retention_days)
        C, L, S = m.Capture, m.DocumentCapture, m.Signal
        newest = (
            select(L.document_id, func.max(C.captured_at).label("at"))
            .join(C, C.id == L.capture_id)
            .group_by(L.document_id)
            .subquery()
        )
        kept = (
            select(L.capture_id)
            .join(C, C.id == L.capture_id)
            .join(newest, and_(newest.c.document_id == L.document_id, newest.c.at == C.captured_at))
            .where(exists().where(S.document_id == L.document_id))
        )
        with db.session_scope(engine) as session:
            db.write_lock(session)
            doomed = [
                (sha, size)
                for sha, size in session.execute(
                    select(C.sha256, C.size).where(C.captured_at < cutoff, C.id.not_in(kept))
                )
            ]
            for part in batched([sha for sha, _ in doomed], 500):
                ids = select(C.id).where(C.sha256.in_(part))
                session.execute(delete(L).where(L.capture_id.in_(ids)))
                session.execute(delete(C).where(C.sha256.in_(part)))
        for sha, size in doomed:
            store.path(sha).unlink(missing_ok=True)
            report.captures += 1
            report.bytes += size
    with db.session_scope(engine) as session:
        known = {f"{sha}{SUFFIX}" for sha in session.scalars(select(m.Capture.sha256))}
    old = time.time() - ORPHAN_GRACE.total_seconds()
    for path in store.files():
        if path.name not in known and path.stat().st_mtime < old:
            path.unlink(missing_ok=True)
            report.orphans += 1
    return report
