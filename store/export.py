"""Write analyst rows as a table, CSV, JSON or JSON Lines — streaming, one row at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TextIO

from regwatch.errors import UsageError

__all__ = ["BOM", "FORMATS", "format_rows", "write_rows"]

FORMATS = ("table", "csv", "json", "jsonl")
BOM = "\ufeff"  # first in a CSV file, so Excel on Windows reads it as UTF-8, not a code page
TABLE = (("score", 5), ("category", 22), ("source_country", 8), ("source", 16),
         ("detected_at", 16), ("title", 40), ("match", 30))  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return ""
    if kind is list or kind is dict:
        return json.dumps(value, ensure_ascii=False)
    if kind is datetime:
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


class _Counted:
    """Rows passed through, counted."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            self.n += 1
            yield row


def write_rows(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str, out: TextIO
) -> int:
    """Write ``rows`` (dicts with ``columns``) to ``out`` in ``fmt``; return how many."""
    counted = _Counted(rows)
    for piece in format_rows(counted, columns, fmt):
        out.write(piece)
    return counted.n


def format_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str) -> Iterator[str]:
    """``rows`` in ``fmt`` as pieces of text, one row at a time (for streaming responses)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    return _pieces(rows, columns, fmt)


def _pieces(rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str) -> Iterator[str]:
    n = 0
    if fmt == "csv":
        line = _Line()
        writer = csv.writer(line, lineterminator="\n")
        writer.writerow(columns)
        yield line.take()
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            yield line.take()
    elif fmt == "jsonl":
        for row in rows:
            yield json.dumps({c: _plain(row.get(c)) for c in columns}, ensure_ascii=False) + "\n"
    elif fmt == "json":
        yield "["
        for row in rows:
            yield ",\n " if n else "\n "
            yield json.dumps({c: _plain(row.get(c)) for c in columns}, ensure_ascii=False)
            n += 1
        yield "\n]\n" if n else "]\n"
    else:
        shown = [(c, w) for c, w in TABLE if c in columns]
        yield " ".join(f"{c[:w]:<{w}}" for c, w in shown).rstrip() + "\n"
        for row in rows:
            cells = []
            for c, w in shown:
                value = row.get(c)
                text = f"{value:.2f}" if c == "score" and value is not None else _cell(value)
                if isinstance(value, datetime):
                    text = value.strftime("%Y-%m-%d %H:%M")
                text = " ".join(text.split())
                cells.append(f"{text[:w]:<{w}}")
            yield " ".join(cells).rstrip() + "\n"


class _Line:
    """What csv.writer wrote since the last take()."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text
