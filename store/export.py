"""Write analyst rows as a table, CSV, JSON or JSON Lines — streaming, one row at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

from errors import ConfigError

__all__ = ["FORMATS", "write_rows"]

FORMATS = ("table", "csv", "json", "jsonl")
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


def write_rows(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str, out: TextIO
) -> int:
    """Write ``rows`` (dicts with ``columns``) to ``out`` in ``fmt``; return how many."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            n += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({c: _plain(row.get(c)) for c in columns}, ensure_ascii=False))
            out.write("\n")
            n += 1
    elif fmt == "json":
        out.write("[")
        for row in rows:
            out.write(",\n " if n else "\n ")
            out.write(json.dumps({c: _plain(row.get(c)) for c in columns}, ensure_ascii=False))
            n += 1
        out.write("\n]\n" if n else "]\n")
    else:
        shown = [(c, w) for c, w in TABLE if c in columns]
        out.write(" ".join(f"{c[:w]:<{w}}" for c, w in shown).rstrip() + "\n")
        for row in rows:
            cells = []
            for c, w in shown:
                value = row.get(c)
                text = f"{value:.2f}" if c == "score" and value is not None else _cell(value)
                if isinstance(value, datetime):
                    text = value.strftime("%Y-%m-%d %H:%M")
                text = " ".join(text.split())
                cells.append(f"{text[:w]:<{w}}")
            out.write(" ".join(cells).rstrip() + "\n")
            n += 1
    return n
