"""`regwatch evidence verify|export|prune` on a fresh demo, as a user runs them: verify passes,
export writes a .warc.gz warcio reads, a tampered capture fails verify (exit 1)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from regwatch.commands.evidence import maintain
from regwatch.config import EvidenceConfig, Settings
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.evidence import EvidenceStore
from regwatch.store.warc import iter_records
from tests.test_demo import regwatch, run_demo


def test_evidence_on_a_fresh_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    run_demo(out)
    cfg = str(out / "config.toml")
    with sqlite3.connect(out / "regwatch.db") as conn:
        captures = conn.execute("SELECT count(*) FROM captures").fetchone()[0]
        flagged = conn.execute("SELECT count(DISTINCT document_id) FROM signals").fetchone()[0]
        linked = conn.execute("SELECT count(DISTINCT document_id) FROM document_captures").fetchone()[0]
        unflagged_with_capture = conn.execute(
            "SELECT count(*) FROM document_captures dc WHERE NOT EXISTS "
            "(SELECT 1 FROM signals s WHERE s.document_id = dc.document_id)"
        ).fetchone()[0]
        doc, sha, url = conn.execute(
            "SELECT dc.document_id, c.sha256, c.url FROM document_captures dc "
            "JOIN captures c ON c.id = dc.capture_id ORDER BY dc.id LIMIT 1"
        ).fetchone()
    assert linked == flagged > 0 and 0 < captures <= linked and unflagged_with_capture == 0
    ok = regwatch("--config", cfg, "evidence", "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"checked {captures} captures" in ok.stdout and ok.stdout.rstrip().endswith("ok")

    target = tmp_path / "doc.warc.gz"
    exported = regwatch("--config", cfg, "evidence", "export", str(doc), "-o", str(target))
    assert exported.returncode == 0, exported.stderr
    responses = [r.rec_headers.get_header("WARC-Target-URI") for r in iter_records(target.read_bytes())
                 if r.rec_type == "response"]  # fmt: skip
    assert url in responses
    none = regwatch("--config", cfg, "evidence", "export", "999999")
    assert none.returncode == 1 and "there is no document 999999" in none.stderr

    path = out / "evidence" / sha[:2] / f"{sha}.warc.gz"
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF
    path.write_bytes(bytes(data))
    bad = regwatch("--config", cfg, "evidence", "verify")
    assert bad.returncode == 1
    assert f"MISMATCH {path}" in bad.stdout and "FAILED" in bad.stdout
    as_json = regwatch("--config", cfg, "evidence", "verify", "--format", "json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) | {"checked": 0, "bytes": 0} == {
        "folder": str(out / "evidence"), "ok": False, "checked": 0, "bytes": 0,
        "mismatched": [str(path)], "missing": [], "orphans": [],
    }  # fmt: skip
    pruned = regwatch("--config", cfg, "evidence", "prune")
    assert pruned.returncode == 0 and "pruned 0 capture(s) kept all" in pruned.stdout


def test_the_services_maintenance_applies_the_retention(engine: Engine, tmp_path: Path) -> None:
    """What `regwatch run` does daily: the database's maintenance, then evidence.retention_days
    (here: a capture 40 days old that no document's signals rely on goes, file and row)."""
    store = EvidenceStore(tmp_path / "evidence")
    data = b"an old capture no document links to"
    sha = hashlib.sha256(data).hexdigest()
    store.path(sha).parent.mkdir(parents=True)
    store.path(sha).write_bytes(data)
    with db.session_scope(engine) as s:
        s.add(m.Capture(sha256=sha, url="https://x.kz/1", size=len(data), records=3,
                        captured_at=datetime.now(UTC) - timedelta(days=40)))  # fmt: skip
    settings = Settings(evidence=EvidenceConfig(dir=str(store.folder), retention_days=30))
    maintain(engine, settings)
    assert not store.path(sha).exists()
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.Capture)) == 0
