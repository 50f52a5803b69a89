"""The demo end to end, as a user runs it: the real CLI, twice, against its loopback server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path


def run_demo(out: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "regwatch.cli", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("sources", "documents", "document_versions", "signals")
        }


def test_demo_end_to_end_twice(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    first = run_demo(out)
    assert "sources: 7 ok, 1 failed" in first
    assert "kg-cabinet failed" in first and "HTTP 404" in first
    db = out / "regwatch.db"
    counts = table_counts(db)
    assert counts["documents"] >= 40
    with sqlite3.connect(db) as conn:
        cats = dict(conn.execute("SELECT category, count(*) FROM signals GROUP BY category"))
        langs = {r[0] for r in conn.execute("SELECT DISTINCT lang FROM documents")}
    assert {"digital_security", "dushanbe_ai_center", "draft_instrument"} <= set(cats)
    assert {"en", "ru", "kk", "uz", "tg"} <= langs
    html = (out / "digest.html").read_text(encoding="utf-8")
    txt = (out / "digest.txt").read_text(encoding="utf-8")
    assert "<mark " in html and "Source health" in html and "kg-cabinet" in txt
    assert "Dushanbe" in txt

    second = run_demo(out)
    assert "0 new" in second and "nothing new stored" in second
    assert table_counts(db) == counts
