"""Editing config.toml in place for `regwatch sources add|remove|enable|disable`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from regwatch.config.loading import load
from regwatch.errors import ConfigError

# `regwatch sources add|remove|enable|disable` edit config.toml in place with tomlkit, which
# keeps every comment and the layout. The edited text is validated as a whole (the same
# loader as at start-up) before it replaces the file, atomically; on any error the file is
# untouched.


def add_source(
    path: Path, block: Mapping[str, Any], comment: str = "", *, dry_run: bool = False
) -> None:
    """Append a ``[[sources]]`` block (plain values) at the end of the file; ``dry_run``
    applies every check of the real edit and leaves the file as it is."""
    import tomlkit

    text = path.read_text(encoding="utf-8")
    rendered = tomlkit.dumps({"sources": [dict(block)]})
    note = "".join(f"# {line}\n" for line in comment.splitlines() if line.strip())
    header, _, body = rendered.partition("\n")
    _replace_validated(path, f"{text.rstrip()}\n\n{header}\n{note}{body}", dry_run=dry_run)


def set_source_enabled(path: Path, name: str, enabled: bool) -> None:
    doc, table = _source_table(path, name)
    table["enabled"] = enabled
    _replace_validated(path, doc.as_string())


def remove_source(path: Path, name: str) -> None:
    doc, _table = _source_table(path, name)
    sources = doc["sources"]
    del sources[[t["name"] for t in sources].index(name)]
    _replace_validated(path, doc.as_string())


def _source_table(path: Path, name: str) -> tuple[Any, Any]:
    import tomlkit

    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    for table in doc.get("sources", []):
        if table.get("name") == name:
            return doc, table
    known = ", ".join(str(t.get("name")) for t in doc.get("sources", [])) or "none"
    raise ConfigError(f"{path}: no source named {name!r} (known: {known})")


def _replace_validated(path: Path, text: str, *, dry_run: bool = False) -> None:
    path = path.resolve()  # a symlinked config.toml is edited where it lives
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if path.exists():
            shutil.copymode(path, tmp)  # keep its permissions (it may be 600)
        try:
            load(tmp)  # the start-up checks, on the edited text
        except ConfigError as exc:
            raise ConfigError(
                f"{str(exc).replace(str(tmp), str(path))} — nothing was changed in {path}"
            ) from None
        if not dry_run:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
