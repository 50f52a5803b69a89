"""The read-only analyst UI and JSON API as one ASGI app (FastAPI): pages under /, the API
under /api, its description at /openapi.json. No Swagger page: it loads from a CDN, and the
machines this runs on are often offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from regwatch.web import api, pages
from regwatch.web.security import Guard

__all__ = ["WebOptions", "create_app"]

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class WebOptions:
    token: str = ""  # when set, every request needs it
    page_size: int = 50
    quiet_days: int = 7  # digest.quiet_days: when a source counts as quiet


def create_app(engine: Engine, options: WebOptions | None = None) -> FastAPI:
    """The app over ``engine`` — pass a read-only one (``make_engine(url, readonly=True)``)."""
    options = options or WebOptions()
    app = FastAPI(
        title="regwatch",
        summary="AI-regulation signals from Central Asian sources: search, facets, timeline",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.engine = engine
    app.state.options = options
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, token=options.token)
    return app
