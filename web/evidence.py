"""The archived copies: a document's captures as one .warc.gz download, read-only, behind the
same token as every page (web.security.Guard). Each file is checked against its SHA-256 before
it is served; a missing or changed one is an error page, never a silently different file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from regwatch.errors import EvidenceError
from regwatch.store import db
from regwatch.store.evidence import EvidenceStore, captures_of
from regwatch.web.pages import html_error

__all__ = ["capture_path", "router"]

router = APIRouter(include_in_schema=False)


def capture_path(document_id: int) -> str:
    """Where a document's archived copy is served (the document page and the digest link)."""
    return f"/documents/{document_id}/capture.warc.gz"


@router.api_route("/documents/{document_id}/capture.warc.gz", methods=["GET", "HEAD"])
def capture_download(request: Request, document_id: int) -> Response:
    folder: str = request.app.state.options.evidence_dir
    with db.session_scope(request.app.state.engine) as s:
        rows = captures_of(s, document_id)
    if not rows or not folder:
        return html_error(404, f"Document {document_id} has no archived copy.")
    store = EvidenceStore(folder)
    try:
        data = b"".join(store.read(r.sha256) for r in rows)
    except EvidenceError as exc:
        return html_error(500, str(exc))
    return Response(
        data,
        media_type="application/warc",  # gzip members: the file itself, not a transfer coding
        headers={
            "content-disposition": f'attachment; filename="document-{document_id}.warc.gz"',
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
        },
    )
