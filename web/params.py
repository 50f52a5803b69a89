"""The search parameters that every page, the CSV export and the API share: read from the
query string into a SignalFilter, checked up front so a bad search shows its message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query, Request

from regwatch.errors import UsageError
from regwatch.store.analyst import SignalFilter, parse_when
from regwatch.store.search import parse

__all__ = ["Search", "search_params"]

Sort = Literal["score", "detected", "published", "oldest"]


@dataclass(frozen=True)
class Search:
    filter: SignalFilter
    sort: str
    page: int
    per_page: int
    params: tuple[tuple[str, str], ...] = ()  # the query as given, for links
    error: str = ""  # why the search cannot run (shown instead of results)
    raw: dict[str, str] = field(default_factory=dict)  # single values, to refill the form

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def link(self, path: str, **changes: str | None) -> str:
        """``path`` with this query, ``changes`` applied (None removes), back on page 1."""
        params = [(k, v) for k, v in self.params if k not in changes and k != "page"]
        params += [(k, v) for k, v in changes.items() if v is not None and v != ""]
        return path + ("?" + urlencode(params) if params else "")

    def toggle(self, path: str, key: str, value: str) -> str:
        """``path`` with ``key=value`` added to the filter, or taken out when it is in."""
        params = [(k, v) for k, v in self.params if k != "page"]
        if (key, value) in params:
            params.remove((key, value))
        else:
            params.append((key, value))
        return path + ("?" + urlencode(params) if params else "")

    def chosen(self, key: str, value: str) -> bool:
        return (key, value) in self.params

    def page_link(self, path: str, page: int) -> str:
        params = [(k, v) for k, v in self.params if k != "page"] + [("page", str(page))]
        return path + "?" + urlencode(params)


def _score(value: str) -> float:
    try:
        score = float(value) if value.strip() else 0.0
    except ValueError:
        score = -1.0
    if not 0.0 <= score <= 1.0:  # also refuses nan
        raise UsageError(f"min_score {value!r}: use a number within 0..1")
    return score


def _many(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def search_params(
    request: Request,
    q: Annotated[
        str, Query(description='full text: words, "phrases", AND, OR, NOT, ( ); any inflection')
    ] = "",
    category: Annotated[list[str], Query(description="category ids; repeat for more")] = [],  # noqa: B006
    country: Annotated[list[str], Query(description="country codes, by source or mention")] = [],  # noqa: B006
    source: Annotated[list[str], Query(description="source names")] = [],  # noqa: B006
    lang: Annotated[list[str], Query(description="language codes")] = [],  # noqa: B006
    since: Annotated[str, Query(description="detected on or after: YYYY-MM-DD or ISO time")] = "",
    until: Annotated[
        str, Query(description="detected up to: YYYY-MM-DD (that whole day) or before an ISO time")
    ] = "",
    min_score: Annotated[str, Query(description="lowest score, 0..1 (empty: any)")] = "",
    sort: Sort = "score",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> Search:
    size = per_page or int(request.app.state.options.page_size)
    params = tuple((k, v) for k, v in request.query_params.multi_items() if v != "")
    raw = {"q": q, "since": since, "until": until, "min_score": min_score}
    error = ""
    flt = SignalFilter()
    try:
        flt = SignalFilter(
            categories=_many(category),
            countries=_many(country),
            sources=_many(source),
            languages=_many(lang),
            since=parse_when(since, "since"),
            until=parse_when(until, "until", end_of_day=True),
            min_score=_score(min_score),
            text=q.strip(),
        )
        if flt.text:
            from regwatch.nlp.index import search_terms

            parse(flt.text, search_terms)
    except UsageError as exc:
        error = str(exc)
    return Search(flt, sort, page, size, params, error, raw)
