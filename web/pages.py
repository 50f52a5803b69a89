"""The HTML pages — search with facets, a document, the timeline, the sources' health — and
the CSV export of the current filter. Every template is autoescaped; links are http(s) only;
no page carries a script."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from regwatch.alerts.render import safe_url
from regwatch.errors import UsageError
from regwatch.instruments.vocabulary import stage_label
from regwatch.store import db
from regwatch.store.analyst import COLUMNS, check_categories, iter_signals
from regwatch.store.evidence import captures_of
from regwatch.store.export import BOM, format_rows
from regwatch.store.facets import FACETS, Facets, facet_counts, signal_page, timeline
from regwatch.store.results import DocumentHit, document_hits
from regwatch.web.chart import draw
from regwatch.web.deps import session
from regwatch.web.params import Search, search_params
from regwatch.web.security import form_token
from regwatch.web.views import (
    document_view,
    evidence,
    label,
    search_words,
    source_views,
    titles,
)

__all__ = ["html_error", "render", "router"]

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
CHUNK = 64 * 1024
FACET_TITLES = {
    "category": "Category",
    "country": "Country",
    "source": "Source",
    "language": "Language",
}
FACET_PARAMS = {
    "category": "category",
    "country": "country",
    "source": "source",
    "language": "lang",
}
SORT_TITLES = {"score": "score", "detected": "newest", "published": "published", "oldest": "oldest"}


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(UTC).strftime(fmt) if value else ""


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: crawled text is hostile
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["when"] = _when
    env.globals["label"] = label
    env.globals["stage_label"] = stage_label
    env.globals["timedelta_days"] = lambda n: timedelta(days=n)
    return env


ENV = _env()
Searched = Annotated[Search, Depends(search_params)]
Db = Annotated[Session, Depends(session)]
View = Annotated[
    Literal["documents", "signals"], Query(description="one result per document or per signal")
]


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Template ``name`` rendered with ``context`` as an HTML response."""
    return HTMLResponse(ENV.get_template(name).render(**context), status_code=status)


_page = render


def html_error(status: int, message: str) -> HTMLResponse:
    """An error as a page, for the HTML routes: a mistyped address in a browser gets words,
    not the API's JSON."""
    title = {404: "Not found", 405: "Not allowed"}.get(status, "Cannot show this page")
    return _page("message.html.j2", status, title=title, message=message)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def search_page(
    request: Request, search: Searched, s: Db, view: View = "documents"
) -> HTMLResponse:
    """One result per document (its categories, best sentence and score, its signals inside)
    or, with ``view=signals``, one per signal."""
    context: dict[str, Any] = {"search": search, "sorts": SORT_TITLES, "view": view}
    empty = {"rows": [], "hits": [], "snippets": {}, "facets": [], "total": 0, "signals": 0,
             "pages": 0}  # fmt: skip
    if search.error:
        return _page("search.html.j2", 400, error=search.error, **context, **empty)
    try:
        check_categories(s, search.filter.categories)
        fc = facet_counts(s, search.filter)
        terms = search_words(search.filter.text)
        rows: list[dict[str, Any]] = []
        hits: list[DocumentHit] = []
        if view == "signals":
            rows = signal_page(s, search.filter, search.sort, search.offset, search.per_page)
            total = fc.summary.total
        else:
            total, hits = document_hits(
                s, search.filter, search.sort, search.offset, search.per_page
            )
    except UsageError as exc:
        return _page("search.html.j2", 400, error=str(exc), **context, **empty)
    for row in rows + [x for hit in hits for x in hit.signals]:
        row["evidence"] = evidence(row["sentence"], row["match"], terms)
        row["link"] = safe_url(row["url"])
    snippets = {hit.document_id: evidence(hit.snippet, "", terms) for hit in hits}
    return _page(
        "search.html.j2",
        error="",
        rows=rows,
        hits=hits,
        snippets=snippets,
        facets=_facets(search, fc),
        total=total,
        signals=fc.summary.total,
        pages=(total + search.per_page - 1) // search.per_page,
        summary=fc.summary,
        **context,
    )


def _facets(search: Search, fc: Facets) -> list[tuple[str, str, list[tuple[str, int, str, bool]]]]:
    return [
        (
            d,
            FACET_TITLES[d],
            [
                (
                    label(d, v),
                    n,
                    search.toggle("/", FACET_PARAMS[d], v),
                    search.chosen(FACET_PARAMS[d], v),
                )
                for v, n in fc.counts[d]
            ],
        )
        for d in FACETS
    ]


@router.api_route("/documents/{document_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def document_page(request: Request, document_id: int, s: Db) -> HTMLResponse:
    view = document_view(s, document_id)
    if view is None:
        return _page(
            "message.html.j2",
            404,
            title="Not found",
            message=f"There is no document {document_id}.",
        )
    for row in view.signals:
        row["evidence"] = evidence(row["sentence"], row["match"])
    page = HTMLResponse("")
    csrf = form_token(request, page)
    categories = sorted(titles("category"))
    archived = captures_of(s, document_id)
    out = _page("document.html.j2", doc=view, csrf=csrf, categories=categories, captures=archived)
    out.raw_headers.extend(h for h in page.raw_headers if h[0] == b"set-cookie")
    return out


@router.api_route("/timeline", methods=["GET", "HEAD"], response_class=HTMLResponse)
def timeline_page(
    search: Searched, s: Db, by: Literal["category", "country"] = "category"
) -> HTMLResponse:
    if search.error:
        return _page("timeline.html.j2", 400, search=search, error=search.error, chart=None, by=by)
    t = timeline(s, search.filter, by)
    chart = draw(t, titles(by)) if t.weeks else None
    return _page("timeline.html.j2", search=search, error="", chart=chart, by=by)


@router.api_route("/sources", methods=["GET", "HEAD"], response_class=HTMLResponse)
def sources_page(request: Request, s: Db) -> HTMLResponse:
    days = request.app.state.options.quiet_days
    return _page(
        "sources.html.j2", sources=source_views(s, datetime.now(UTC), days), quiet_days=days
    )


@router.api_route("/export.csv", methods=["GET", "HEAD"], response_model=None)
def export_csv(request: Request, search: Searched) -> StreamingResponse | HTMLResponse:
    """Every signal of the current filter as CSV (the columns of `regwatch export`),
    streamed: rows leave as they are read."""
    if search.error:
        return _page("message.html.j2", 400, title="Cannot export", message=search.error)
    engine = request.app.state.engine

    def chunks() -> Iterator[bytes]:
        with db.session_scope(engine) as s:
            buffered: list[str] = [BOM]  # Excel on Windows reads UTF-8 only after a BOM
            size = 0
            for piece in format_rows(iter_signals(s, search.filter, search.sort), COLUMNS, "csv"):
                buffered.append(piece)
                size += len(piece)
                if size >= CHUNK:
                    yield "".join(buffered).encode("utf-8")
                    buffered, size = [], 0
            yield "".join(buffered).encode("utf-8")

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="regwatch-signals-{stamp}.csv"'},
    )
