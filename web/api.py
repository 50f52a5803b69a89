"""The JSON API (read-only, described at /openapi.json): signals with filters and paging,
facet counts, the weekly timeline, a document with its versions, and the sources' health."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from regwatch.alerts.render import safe_url
from regwatch.errors import UsageError
from regwatch.store.facets import facet_counts, signal_page, summary, timeline
from regwatch.web.deps import session
from regwatch.web.params import Search, search_params
from regwatch.web.views import document_view, label, source_views

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["api"])


class SignalOut(BaseModel):
    signal_id: int
    category: str
    score: float
    reason: str
    rule: str
    match: str
    sentence: str
    field: str
    start: int
    end: int
    language: str | None
    countries: list[str]
    bodies: list[str]
    attributes: dict[str, Any]
    detected_at: datetime
    document_id: int
    title: str
    url: str
    link: str  # the URL when it is http(s), else "" — the only one to render as a link
    published_at: datetime | None
    source: str
    source_country: str
    tier: str


class DocumentSignal(SignalOut):
    version: int  # the version of the document the signal was found in


class SignalPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[SignalOut]


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class FacetsOut(BaseModel):
    total: int
    first_detected: datetime | None
    last_detected: datetime | None
    category: list[FacetValue]
    country: list[FacetValue]
    source: list[FacetValue]
    language: list[FacetValue]


class Series(BaseModel):
    key: str
    label: str
    counts: list[int]


class TimelineOut(BaseModel):
    by: str
    weeks: list[date]  # the Monday of each week (UTC)
    series: list[Series]


class DiffLineOut(BaseModel):
    kind: Literal["add", "del", "same", "hunk"]
    text: str


class VersionOut(BaseModel):
    version: int
    title: str
    text: str
    content_hash: str
    fetched_at: datetime
    title_before: str | None
    changes: list[DiffLineOut]  # against the previous version
    note: str


class HistorySignal(BaseModel):
    """A signal of an earlier version: history, counted nowhere."""

    category: str
    rule: str
    match: str
    score: float
    version: int | None


class DocumentOut(BaseModel):
    id: int
    title: str
    url: str
    link: str
    source: str
    source_country: str
    tier: str
    lang: str | None
    published_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    version: int
    versions: list[VersionOut]
    signals: list[DocumentSignal]  # the current version's
    history: list[HistorySignal]  # earlier versions' signals


class SourceOut(BaseModel):
    name: str
    url: str
    state: Literal["ok", "new", "failing", "quiet"]
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_last_run: int
    quiet_since: datetime | None
    last_warning: str | None = None


def signal_out(row: dict[str, Any]) -> SignalOut:
    return SignalOut(**row, link=safe_url(row["url"]))


def _checked(search: Search) -> Search:
    if search.error:
        raise HTTPException(400, search.error)
    return search


Checked = Annotated[Search, Depends(search_params)]
Db = Annotated[Session, Depends(session)]


@router.get("/signals", response_model=SignalPage)
def signals(search: Checked, s: Db) -> SignalPage:
    """Signals matching the filter, sorted, one page at a time."""
    _checked(search)
    try:
        rows = signal_page(s, search.filter, search.sort, search.offset, search.per_page)
        total = summary(s, search.filter).total
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from None
    return SignalPage(
        total=total,
        page=search.page,
        per_page=search.per_page,
        items=[signal_out(r) for r in rows],
    )


@router.get("/facets", response_model=FacetsOut)
def facets(search: Checked, s: Db) -> FacetsOut:
    """Counts per category, country, source and language. Each dimension applies every other
    filter but its own, so the counts say what adding a value would bring."""
    _checked(search)
    fc = facet_counts(s, search.filter)

    def values(d: str) -> list[FacetValue]:
        return [FacetValue(value=v, label=label(d, v), count=n) for v, n in fc.counts[d]]

    return FacetsOut(
        total=fc.summary.total,
        first_detected=fc.summary.first,
        last_detected=fc.summary.last,
        category=values("category"),
        country=values("country"),
        source=values("source"),
        language=values("language"),
    )


@router.get("/timeline", response_model=TimelineOut)
def timeline_api(
    search: Checked, s: Db, by: Literal["category", "country"] = "category"
) -> TimelineOut:
    """Signals per week (Monday to Sunday, UTC) per category or per country. By country a
    signal counts for each country it concerns (its source's and those it mentions)."""
    _checked(search)
    t = timeline(s, search.filter, by)
    return TimelineOut(
        by=t.by,
        weeks=list(t.weeks),
        series=[Series(key=k, label=label(by, k), counts=list(c)) for k, c in t.series],
    )


@router.get("/documents/{document_id}", response_model=DocumentOut)
def document(document_id: int, s: Db) -> DocumentOut:
    """A document with every version (newest first; each with its changes against the one
    before), its current signals and its earlier versions' signals (history)."""
    view = document_view(s, document_id)
    if view is None:
        raise HTTPException(404, f"no document {document_id}")
    versions = [
        VersionOut(
            version=v.version,
            title=v.title,
            text=v.text,
            content_hash=v.content_hash,
            fetched_at=v.fetched_at,
            title_before=v.title_before,
            note=v.note,
            changes=[DiffLineOut(kind=d.kind, text=d.text) for d in v.diff],  # type: ignore[arg-type]
        )
        for v in view.versions
    ]
    return DocumentOut(
        id=view.id,
        title=view.title,
        url=view.url,
        link=view.link,
        source=view.source,
        source_country=view.source_country,
        tier=view.tier,
        lang=view.lang,
        published_at=view.published_at,
        first_seen_at=view.first_seen_at,
        last_seen_at=view.last_seen_at,
        version=view.version,
        versions=versions,
        signals=[DocumentSignal(**r, link=safe_url(r["url"])) for r in view.signals],
        history=[HistorySignal(**r) for r in view.history],
    )


@router.get("/sources", response_model=list[SourceOut])
def sources(request: Request, s: Db) -> list[SourceOut]:
    """Every source with its health: last success, last error, failures in a row, items of
    the last run, and since when it has been quiet."""
    days = request.app.state.options.quiet_days
    out = []
    for v in source_views(s, datetime.now(UTC), days):
        fields = {k: x for k, x in vars(v).items() if k != "link"}
        out.append(SourceOut(**fields))
    return out
