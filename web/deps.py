"""Request-scoped resources: a read-only session on the app's engine."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from regwatch.store import db

__all__ = ["session"]


def session(request: Request) -> Iterator[Session]:
    """One read transaction per request (the engine is read-only: nothing can be written)."""
    with db.session_scope(request.app.state.engine) as s:
        yield s
