"""`--format json` for the commands that list or summarise: one JSON document on stdout, every
text in full (a table cuts long errors to fit a terminal; JSON never does)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date, datetime
from typing import Any

__all__ = ["add_format", "emit", "plain", "wants_json"]


def add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text for people (default) or json for scripts, with every message in full",
    )


def wants_json(args: argparse.Namespace) -> bool:
    return getattr(args, "format", "text") == "json"


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as objects, times in ISO 8601, tuples and
    sets as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def emit(value: Any) -> None:
    sys.stdout.write(json.dumps(plain(value), ensure_ascii=False, indent=2) + "\n")
