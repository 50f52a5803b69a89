"""SQLite under concurrent use: read commands never take the write lock, a long export reads
one snapshot without holding up ingest, and a lock past the busy timeout is named as such.
Real commands on a real SQLite file; the full-scale run is `python -m bench.concurrency`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.concurrency import contend
from bench.store_queries import populate
from regwatch.cli import main
from regwatch.store import db

ROOT = Path(__file__).resolve().parents[2]


def _store(tmp_path: Path, documents: int = 0) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n', encoding="utf-8")
    engine = db.make_engine(f"sqlite:///{tmp_path / 's.db'}")
    db.upgrade(engine)
    if documents:
        populate(engine, documents, documents * 3)
    engine.dispose()
    return cfg


def _jsonl(path: Path, n: int) -> Path:
    lines = (
        json.dumps({"url": f"https://new.example/{i}", "title": f"Законопроект {i}",
                    "text": f"Министерство внесло законопроект об ИИ номер {i}.",
                    "source": "fresh", "lang": "ru"}, ensure_ascii=False)
        for i in range(n)
    )  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_commands_run_beside_a_held_write_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _store(tmp_path, documents=200)
    writer = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another writer, in the middle of a long transaction
    try:
        for args in (["query", "--limit", "3"], ["export"], ["status"]):
            started = time.monotonic()
            code = main(["--config", str(cfg), *args])
            assert code in (0, 1), capsys.readouterr().err  # status: 1 = unhealthy, no runs
            assert time.monotonic() - started < 3, f"{args[0]} waited for the write lock"
        assert capsys.readouterr().out.count("\n") > 600  # the export's 600 signals, and more
        code = main(["--config", str(cfg), "import", str(_jsonl(tmp_path / "n.jsonl", 3))])
        err = capsys.readouterr().err
        assert "stayed locked by another writer" in err and "server is running" not in err
        assert code != 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_long_export_reads_one_snapshot_without_holding_up_ingest(tmp_path: Path) -> None:
    cfg = _store(tmp_path, documents=1000)
    export = subprocess.Popen(
        [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "export"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert export.stdout is not None
        first = export.stdout.readline()  # the export is inside its read transaction, and
        assert first.startswith("{")  # blocks on the full pipe until we read on
        started = time.monotonic()
        code = main(["--config", str(cfg), "import", str(_jsonl(tmp_path / "n.jsonl", 40))])
        assert code == 0 and time.monotonic() - started < 20
        rest = export.stdout.read()
        assert export.wait(30) == 0
        assert 1 + rest.count("\n") == 3000  # the snapshot it started with: no new signal
    finally:
        if export.poll() is None:
            export.kill()
        export.communicate()


def test_writers_beside_an_exporter_and_a_query_loop_see_no_lock_error(tmp_path: Path) -> None:
    seen = contend(tmp_path, documents=500, writers=4, per_writer=20)
    assert seen.failed == [] and seen.locked == 0
    assert seen.exports >= 1 and seen.queries >= 1
