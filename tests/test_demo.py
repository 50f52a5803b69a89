"""The demo end to end, as a user runs it: the real CLI, twice, against its loopback server."""

from __future__ import annotations

import json
import os
import re
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


def regwatch(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REGWATCH_DATABASE_URL",
                                                            "REGWATCH_CONFIG")}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "regwatch.cli", *argv], capture_output=True,
                          text=True, timeout=300, check=False, env=env)  # fmt: skip


def test_the_demo_leaves_a_config_every_next_step_reads(tmp_path: Path) -> None:
    import httpx

    from regwatch.config import load
    from tests.web.conftest import serve

    out = tmp_path / "demo-out"
    run_demo(out)
    cfg = out / "config.toml"
    settings = load(cfg, env={})
    assert settings.database.url == f"sqlite:///{out / 'regwatch.db'}"
    assert [s.name for s in settings.subscriptions] == ["gr-central-asia", "kz-desk"]
    assert len(settings.sources) == 8 and not any(s.enabled for s in settings.sources)
    assert all(s.url.startswith("http://127.0.0.1:") for s in settings.sources)

    listed = regwatch("--config", str(cfg), "sources", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert {r["name"] for r in json.loads(listed.stdout)} == {s.name for s in settings.sources}
    query = regwatch("--config", str(cfg), "query", "--category", "draft_instrument")
    assert query.returncode == 0 and "kz-legalacts" in query.stdout, query.stderr
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()  # the period that ends at the demo's digest
    preview = regwatch("--config", str(cfg), "digest", "--subscription", "kz-desk", "--date",
                       today)  # fmt: skip
    assert preview.returncode == 0 and "Kazakhstan" in preview.stdout, preview.stderr
    collect = regwatch("--config", str(cfg), "collect")  # disabled: nothing goes out
    assert collect.returncode == 0 and "sources: 0 ok, 0 failed" in collect.stdout
    with serve(settings.database.url) as live:  # what `make serve` opens
        page = httpx.get(live.base + "/", timeout=30).text
    assert re.search(r"<strong>\d+</strong> documents", page) and "kz-legalacts" in page
