"""Feedback, the UI's one write: a signal marked relevant or not relevant, a category a
document misses (forms on the document page), and /feedback, precision per rule and per
category from the verdicts.

The POST goes through the same Guard (the token, when the UI is bound beyond loopback) and
through :func:`regwatch.web.security.check_post`: a per-browser random cookie
(``SameSite=Strict``, ``HttpOnly``) whose HMAC under the app's secret is the form's hidden
token, and the request's own origin
(``Origin`` and ``Sec-Fetch-Site``) — a page elsewhere can neither read the token nor pass
the origin checks. Only this route writes, through the app's separate writing engine."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from regwatch.errors import UsageError
from regwatch.store import db
from regwatch.store.feedback import judge_signal, mark_missed, precision
from regwatch.web.deps import session
from regwatch.web.pages import render
from regwatch.web.security import check_post
from regwatch.web.views import titles

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Db = Annotated[Session, Depends(session)]


MAX_BODY = 16_384  # a feedback form is a few hundred bytes


def _number(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        raise HTTPException(400, f"feedback: {name} {value!r} is not a number")
    return int(value)


@router.post("/feedback")
async def give_feedback(request: Request) -> Response:
    """The form's fields: ``csrf``; ``signal_id`` with ``verdict`` (relevant, not_relevant),
    or ``document_id`` with ``missed`` (a category); ``note``. Parsed here (urlencoded, no
    multipart), so no form library is needed."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"feedback: a form over {MAX_BODY} bytes")
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    form = {k: v for k, v in pairs}
    check_post(request, form.get("csrf", ""))
    signal_id, document_id = _number(form, "signal_id"), _number(form, "document_id")
    verdict, missed, note = form.get("verdict", ""), form.get("missed", ""), form.get("note", "")
    writer = request.app.state.writer
    if writer is None:
        raise HTTPException(405, "feedback is off: this server was started without a writer")
    try:
        with db.session_scope(writer) as s:
            if signal_id is not None and verdict in ("relevant", "not_relevant"):
                row = judge_signal(s, signal_id, verdict == "relevant", note)
            elif document_id is not None and missed:
                row = mark_missed(s, document_id, missed, titles("category"), note)
            else:
                raise UsageError(
                    "feedback: send signal_id with verdict relevant or not_relevant, "
                    "or document_id with missed"
                )
            target = row.document_id
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(f"/documents/{target}#feedback", status_code=303)


@router.api_route("/feedback", methods=["GET", "HEAD"], response_class=HTMLResponse)
def feedback_page(s: Db) -> HTMLResponse:
    by_rule, by_category = precision(s)
    return render("feedback.html.j2", by_rule=by_rule, by_category=by_category)
