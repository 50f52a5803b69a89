"""The CLI at its edges, as people meet it: a pipe closed early, a file that cannot be written,
a typo in a name, a mistyped database path, the one meaning of --until."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from regwatch.cli import main

LINES = [
    {
        "url": f"https://archive.example/kz/{i}",
        "title": f"Законопроект об ИИ № {i}",
        "text": "Министерство опубликовало законопроект об искусственном интеллекте. " * 5,
        "source": "old-archive",
        "country": "kz",
    }
    for i in range(30)
]


@dataclass(frozen=True)
class Store:
    config: Path
    database: Path


def imported(folder: Path, lines: list[dict[str, str]]) -> Store:
    """A SQLite store in ``folder`` holding ``lines``, put in by `regwatch import`."""
    database = folder / "regwatch.db"
    cfg = folder / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{database}"\n', encoding="utf-8")
    src = folder / "in.jsonl"
    src.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    assert main(["--config", str(cfg), "import", str(src)]) == 0
    return Store(cfg, database)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return imported(tmp_path_factory.mktemp("cli"), LINES)


def _count(store: Store, capsys: pytest.CaptureFixture[str], *argv: str) -> int:
    assert main(["--config", str(store.config), "query", "--format", "jsonl", *argv]) == 0
    return len(capsys.readouterr().out.splitlines())


def _closed_pipe(store: Store, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run regwatch with its stdout a pipe whose reader has already gone (as `| head` after
    its lines)."""
    read, write = os.pipe()
    os.close(read)
    env = {k: v for k, v in os.environ.items() if k != "REGWATCH_DATABASE_URL"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "regwatch.cli", "--config", str(store.config), *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "argv",
    [
        ("query",),
        ("query", "--format", "jsonl"),
        ("export",),
        ("export", "--what", "documents", "--format", "csv"),
        ("alerts", "list"),
        ("status",),
        ("sources", "list"),
    ],
)
def test_a_closed_pipe_ends_quietly(store: Store, argv: tuple[str, ...]) -> None:
    done = _closed_pipe(store, *argv)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 141


def test_export_to_a_missing_folder_says_so(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nonexistent" / "x.jsonl"
    assert main(["--config", str(store.config), "export", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"export --out {target}: cannot write there (No such file or directory)" in err


def test_export_bom_for_excel(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.csv"
    argv = ["--config", str(store.config), "export", "--format", "csv", "--bom", "--out", str(out)]
    total = _count(store, capsys)
    assert main(argv) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfsignal_id,") and data.count(b"\xef\xbb\xbf") == 1
    assert "Законопроект" in data.decode("utf-8-sig")
    assert f"exported {total} signals" in capsys.readouterr().err
    assert main(["--config", str(store.config), "export", "--bom"]) == 2
    assert "--format csv" in capsys.readouterr().err


def test_until_a_day_includes_that_day(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(UTC).date().isoformat()  # every signal was detected today
    total = _count(store, capsys)
    assert total >= len(LINES)
    assert _count(store, capsys, "--until", today) == total
    assert _count(store, capsys, "--since", today, "--until", today) == total
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert _count(store, capsys, "--until", yesterday) == 0


def test_a_mistyped_category_is_an_error_with_a_suggestion(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(store.config), "query", "--category", "draft_law"]) == 2
    err = capsys.readouterr().err
    assert "category 'draft_law' is unknown; did you mean draft_instrument?" in err
    assert _count(store, capsys, "--category", "draft_instrument") >= len(LINES)


@pytest.mark.parametrize(
    "argv",
    [
        ("query",),
        ("export",),
        ("status",),
        ("alerts", "list"),
        ("sources", "list"),
        ("backtest",),
        ("digest",),
    ],
)
def test_read_commands_never_create_a_database(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    typo = tmp_path / "regwach.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{typo}"\n', encoding="utf-8")
    assert main(["--config", str(cfg), *argv]) == 1
    assert f"database {typo} does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [cfg]


def test_import_keeps_each_lines_own_country(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "i.db"}"\n', encoding="utf-8")
    text = "Министерство опубликовало законопроект об искусственном интеллекте."
    lines = [
        {"url": "https://x.example/uz", "title": "Узбекистан", "text": text,
         "source": "archive", "country": "uz"},
        {"url": "https://x.example/kg", "title": "Кыргызстан", "text": text,
         "source": "archive", "country": "kg"},
        {"url": "https://x.example/kg2", "title": "Кыргызстан 2", "text": text,
         "source": "archive", "country": "kg"},
    ]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    assert main(["--config", str(cfg), "import", str(src)]) == 0
    err = capsys.readouterr().err
    assert "line 2: country 'kg' differs from its source's ('uz'): stored under source " \
        "'archive-kg'" in err and "line 3" not in err  # fmt: skip
    assert main(["--config", str(cfg), "query", "--format", "jsonl"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    where = {r["url"].rsplit("/", 1)[1]: (r["source"], r["source_country"]) for r in rows}
    assert where == {"uz": ("archive", "uz"), "kg": ("archive-kg", "kg"),
                     "kg2": ("archive-kg", "kg")}  # fmt: skip
