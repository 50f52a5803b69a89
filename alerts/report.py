"""Read the store and produce a digest for a period; write it to files."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from alerts.digest import Digest, build_digest
from alerts.render import render_html, render_text
from errors import DeliveryError
from store import db
from store.queries import signals_between, source_health

__all__ = ["DigestFiles", "digest_for", "write_digest"]


@dataclass(frozen=True)
class DigestFiles:
    html: Path
    text: Path


def digest_for(
    engine: Engine,
    end: datetime,
    window_hours: int,
    max_items: int,
    min_score: float = 0.0,
    sources: Collection[str] | None = None,
) -> Digest:
    """The digest of signals detected in the ``window_hours`` before ``end``; the health
    section covers ``sources`` (the configured ones)."""
    start = end - timedelta(hours=window_hours)
    with db.session_scope(engine) as session:
        rows = signals_between(session, start, end, min_score)
        health = source_health(session, sources)
    return build_digest(rows, start, end, health, max_items)


def write_digest(digest: Digest, html_path: Path, text_path: Path) -> DigestFiles:
    try:
        html_path.write_text(render_html(digest), encoding="utf-8")
        text_path.write_text(render_text(digest), encoding="utf-8")
    except OSError as exc:
        raise DeliveryError(f"digest: cannot write {exc.filename}: {exc.strerror}") from None
    return DigestFiles(html_path, text_path)
