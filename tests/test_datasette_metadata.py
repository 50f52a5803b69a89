"""docs/datasette-metadata.json against a real store: every canned query runs on SQLite as
Datasette would run it (named parameters bound) and answers the question it names; every
hidden or labelled table and label column exists."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli_edges import imported

METADATA = Path(__file__).resolve().parent.parent / "docs" / "datasette-metadata.json"
DOCS = [
    {"url": "https://x.example/kz", "title": "Законопроект об ИИ", "source": "wire",
     "text": "Министерство опубликовало законопроект об искусственном интеллекте.",
     "country": "kz"},
    {"url": "https://x.example/plain", "title": "Дороги", "source": "wire",
     "text": "Ремонт дорог продолжится весной.", "country": "kz"},
]  # fmt: skip
PARAMS = {"min_score": "0.3", "days": "30", "country": "kz", "term": "законопроект"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported(tmp_path_factory.mktemp("ds"), DOCS).database


def _db() -> dict[str, object]:
    meta = json.loads(METADATA.read_text(encoding="utf-8"))
    return meta["databases"]["regwatch"]  # type: ignore[no-any-return]


def test_tables_and_label_columns_exist(store: Path) -> None:
    with sqlite3.connect(store) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        for name, options in _db()["tables"].items():  # type: ignore[attr-defined]
            assert name in tables, name
            if "label_column" in options:
                columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')}
                assert options["label_column"] in columns, name
        internal = {"alembic_version", "signal_combos", "signal_weekly", "document_search_idx"}
        hidden = {n for n, o in _db()["tables"].items() if o.get("hidden")}  # type: ignore[attr-defined]
        assert internal <= hidden


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("strongest_recent", "x.example/kz"),
        ("draft_laws", "x.example/kz"),
        ("by_country", "x.example/kz"),
        ("signals_per_week", "draft_instrument"),
        ("source_health", "wire"),
        ("documents_without_signals", "x.example/plain"),
        ("documents_with_lemma", "x.example/kz"),
    ],
)
def test_canned_queries_answer(store: Path, name: str, expect: str) -> None:
    query = _db()["queries"][name]  # type: ignore[index]
    sql = query["sql"]
    params = {p: PARAMS[p] for p in re.findall(r":(\w+)", sql)}
    with sqlite3.connect(store) as conn:
        rows = conn.execute(sql, params).fetchall()
    assert any(expect in str(row) for row in rows), (name, rows)
    if name == "documents_without_signals":
        assert all("x.example/kz" not in str(row) for row in rows)
