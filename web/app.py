"""The read-only analyst UI and JSON API as one ASGI app (FastAPI): pages under /, the API
under /api, its description at /openapi.json. No Swagger page: it loads from a CDN, and the
machines this runs on are often offline."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.responses import Response

from regwatch.config import SubscriptionConfig
from regwatch.web import api, evidence, feedback, instrument_pages, pages
from regwatch.web.security import Guard

__all__ = ["WebOptions", "create_app"]

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class WebOptions:
    token: str = ""  # when set, every request needs it
    page_size: int = 50
    quiet_days: int = 7  # digest.quiet_days: when a source counts as quiet
    evidence_dir: str = ""  # evidence.dir: the archived copies served; empty: none
    # the configured subscriptions: /calendar.ics?subscription=NAME filters by one
    subscriptions: tuple[SubscriptionConfig, ...] = ()


def create_app(
    engine: Engine, options: WebOptions | None = None, writer: Engine | None = None
) -> FastAPI:
    """The app over ``engine`` — pass a read-only one (``make_engine(url, readonly=True)``);
    ``writer``, a writing engine on the same database, is used by the feedback POST only
    (without one, feedback is refused)."""
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
    app.state.writer = writer
    app.state.csrf_secret = secrets.token_bytes(32)  # signs the forms' tokens
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(instrument_pages.router)
    app.include_router(feedback.router)
    app.include_router(evidence.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, token=options.token)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/openapi.json"))


async def _http_error(request: Request, exc: Exception) -> Response:
    """The API answers errors in JSON; every other route (a page) with an HTML page."""
    assert isinstance(exc, HTTPException)
    if _wants_json(request):
        return await http_exception_handler(request, exc)
    message = {
        404: f"There is no page at {request.url.path}.",
        405: f"{request.method} is not allowed here.",
    }.get(exc.status_code, str(exc.detail))
    return pages.html_error(exc.status_code, message)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _wants_json(request):
        return await request_validation_exception_handler(request, exc)
    problems = "; ".join(
        f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'} {e.get('input')!r}: "
        f"{e.get('msg', 'invalid')}"
        for e in exc.errors()
    )
    return pages.html_error(400, f"This address cannot be shown: {problems}.")
