"""SQLite under concurrent use (issue 13): writers, an exporter and a query loop on one store.

``REGWATCH_BENCH_DOCUMENTS`` documents with three signals each (default 50,000 / 150,000) are
generated with bulk inserts; then ``WRITERS`` `regwatch import` processes (each importing
``PER_WRITER`` new documents) run at once beside an `export` loop and a `query --text` loop —
real commands on one SQLite file. Reported: commands that failed, how many said "database is
locked" (the target: 0), the longest export, and — the baseline measured in the same run —
one import alone on the quiet store against the slowest of the concurrent ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.store_queries import populate
from regwatch.store import db

__all__ = ["Contention", "contend", "main"]

ROOT = Path(__file__).resolve().parents[1]
WRITERS = 4
PER_WRITER = 300
TEXT = (
    "Министерство цифрового развития внесло законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности и регулирование систем ИИ."
)


@dataclass
class Contention:
    """What one run of the scenario saw."""

    commands: int = 0
    failed: list[str] = field(default_factory=list)  # "command: last stderr line"
    locked: int = 0  # commands whose output says "database is locked"
    exports: int = 0
    longest_export: float = 0.0
    queries: int = 0
    slowest_import: float = 0.0
    alone_import: float = 0.0


def _config(folder: Path) -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{folder / "store.db"}"\n', encoding="utf-8")
    return cfg


def _documents(path: Path, writer: int, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            doc = {
                "url": f"https://w{writer}.example/news/{i}",
                "title": f"Законопроект {writer}-{i}",
                "text": f"{TEXT} Номер {writer}-{i}.",
                "source": f"writer-{writer}",
                "country": "kz",
                "lang": "ru",
            }
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


def _regwatch(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def contend(
    folder: Path, documents: int, writers: int = WRITERS, per_writer: int = PER_WRITER
) -> Contention:
    """Generate the store in ``folder`` and run the scenario on it."""
    cfg = _config(folder)
    engine = db.make_engine(f"sqlite:///{folder / 'store.db'}")
    db.upgrade(engine)
    populate(engine, documents, documents * 3)
    engine.dispose()
    seen = Contention()
    lock = threading.Lock()

    def record(name: str, done: subprocess.CompletedProcess[str], seconds: float) -> None:
        with lock:
            seen.commands += 1
            output = done.stdout[-2000:] + done.stderr
            if "database is locked" in output:
                seen.locked += 1
            if done.returncode not in (0, 3):  # 3: some lines skipped, not a failure here
                tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                seen.failed.append(f"{name}: exit {done.returncode}: {tail}")
            if name == "export":
                seen.exports += 1
                seen.longest_export = max(seen.longest_export, seconds)
            elif name == "query":
                seen.queries += 1
            elif name.startswith("import"):
                seen.slowest_import = max(seen.slowest_import, seconds)

    def timed(name: str, *args: str) -> None:
        started = time.perf_counter()
        done = _regwatch(cfg, *args)
        record(name, done, time.perf_counter() - started)

    started = time.perf_counter()
    timed("import-alone", "import", str(_documents(folder / "alone.jsonl", 99, per_writer)))
    seen.alone_import = time.perf_counter() - started
    seen.slowest_import = 0.0
    files = [_documents(folder / f"w{k}.jsonl", k, per_writer) for k in range(writers)]
    importing = [
        threading.Thread(target=timed, args=(f"import-{k}", "import", str(f)))
        for k, f in enumerate(files)
    ]
    stop = threading.Event()

    def loop(name: str, *args: str) -> None:
        while not stop.is_set():
            timed(name, *args)

    readers = [
        threading.Thread(target=loop, args=("export", "export", "--out", str(folder / "x.jsonl"))),
        threading.Thread(
            target=loop, args=("query", "query", "--text", "законопроект", "--limit", "50")
        ),
    ]
    for t in [*readers, *importing]:
        t.start()
    for t in importing:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    return seen


def main() -> None:
    documents = int(os.environ.get("REGWATCH_BENCH_DOCUMENTS", "50000"))
    with tempfile.TemporaryDirectory() as tmp:
        seen = contend(Path(tmp), documents)
    print(
        f"concurrency (SQLite, {documents} documents / {documents * 3} signals, {WRITERS} "
        f"importers x {PER_WRITER} beside an export loop and a query loop): {seen.commands} "
        f"commands, {len(seen.failed)} failed, {seen.locked} 'database is locked'; "
        f"{seen.exports} exports (longest {seen.longest_export:.1f} s), {seen.queries} queries; "
        f"slowest import {seen.slowest_import:.1f} s vs {seen.alone_import:.1f} s alone "
        f"(ratio {seen.slowest_import / max(seen.alone_import, 1e-9):.2f})"
    )
    for line in seen.failed[:10]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
