"""PDF and DOCX attachments — draft decrees are often published that way — turned into text.

Pure: bytes in (fetched by the one Fetcher, under its size cap), text out. Both formats are
hostile-input parsers, so each is bounded: a PDF is read for at most ``MAX_PDF_PAGES`` pages
and ``MAX_PDF_SECONDS``, each of its streams decompresses to at most ``max_unpacked`` bytes,
and a page with more than ``MAX_PAGE_CONTENT`` bytes of drawing instructions is passed over
(pages can share one stream, which pypdf parses again for each); a DOCX (a zip) has each part
read in small steps against ``max_unpacked`` and its CRC, and is rebuilt before python-docx
sees it — the same post-decompression rule the fetcher applies to Content-Encoding. Any
parser failure becomes an ExtractError naming the URL.
"""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
import zipfile
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector, SelectorList

from regwatch.errors import ExtractError

__all__ = [
    "MAX_ATTACHMENTS_PER_PAGE",
    "attachment_kind",
    "attachment_links",
    "attachment_text",
]

MAX_ATTACHMENTS_PER_PAGE = 5
MAX_PDF_PAGES = 300
MAX_PAGE_CONTENT = 256 * 1024  # bytes of drawing instructions on a page; text pages use KBs
MAX_PDF_SECONDS = 15.0  # pages share content streams, which pypdf parses again per page
MAX_TEXT_CHARS = 2_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_ANCHORS = 5_000
_SUFFIXES = {".pdf": "pdf", ".docx": "docx"}
_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}

_MAYBE_LINKED = re.compile(r"\.(?:pdf|docx)\b", re.I)

logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed PDFs are ExtractErrors here


def _suffix_kind(url: str) -> str | None:
    path = unquote(urlsplit(url).path).lower()
    for suffix, kind in _SUFFIXES.items():
        if path.endswith(suffix):
            return kind
    return None


def attachment_links(html: str, base_url: str, scope: str = "") -> list[tuple[str, str]]:
    """(absolute URL, link text) of PDF/DOCX links inside ``scope`` (a CSS selector; else the
    page's <main> or <article>, else the whole page), in page order, once each."""
    if not _MAYBE_LINKED.search(html):  # most pages link none: skip parsing them again
        return []
    sel = Selector(text=html)
    roots: SelectorList[Selector] = SelectorList()
    for candidate in (scope, "main", "article"):
        if candidate:
            try:
                roots = sel.css(candidate)
            except Exception:  # a bad selector was already reported by the text extraction
                roots = SelectorList()
            if roots:
                break
    anchors = [a for root in roots for a in root.css("a[href]")] if roots else sel.css("a[href]")
    del anchors[MAX_ANCHORS:]  # a page of 100,000 links is not read to its end
    found: dict[str, str] = {}
    for a in anchors:
        url = urljoin(base_url, (a.attrib.get("href") or "").strip()).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https") and _suffix_kind(url):
            label = " ".join(" ".join(a.css("::text").getall()).split())
            found.setdefault(url, label)
        if len(found) >= MAX_ATTACHMENTS_PER_PAGE:
            break
    return list(found.items())


def attachment_kind(body: bytes, content_type: str, url: str) -> str | None:
    """ "pdf", "docx" or None, from the bytes first, then the Content-Type, then the URL."""
    if body.startswith(b"%PDF-") or body[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        kind = _TYPES.get(content_type) or _suffix_kind(url)
        return "docx" if kind == "docx" else None
    return None


def attachment_text(body: bytes, url: str, kind: str, max_unpacked: int) -> str:
    """The text of a PDF or DOCX body; ExtractError when it cannot be read within the bounds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind == "pdf":
                text = _pdf_text(body, max_unpacked)
            else:
                text = _docx_text(body, url, max_unpacked)
        except ExtractError:
            raise
        except Exception as exc:  # third-party parsers on hostile bytes raise many types
            raise ExtractError(
                f"extract: {url} is not a readable {kind.upper()} ({type(exc).__name__}: {exc})"
            ) from None
    text = text.strip()
    if not text:
        raise ExtractError(
            f"extract: {url} has no text layer ({kind.upper()}); a scanned document needs OCR"
        )
    return text[:MAX_TEXT_CHARS]


def _pdf_text(body: bytes, max_unpacked: int) -> str:
    import pypdf

    # Every stream filter pypdf decompresses is capped at the fetch cap (its default is 75 MB).
    limits: dict[str, Any] = {
        name: max_unpacked
        for name in (
            "maximum_declared_stream_length",
            "array_based_stream_maximum_output_length",
            "jbig2_maximum_output_length",
            "lzw_maximum_output_length",
            "run_length_maximum_output_length",
            "zlib_maximum_output_length",
            "brotli_maximum_output_length",
        )
    }
    with pypdf.apply_configuration(**limits):
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            reader.decrypt("")  # many official PDFs are "encrypted" with an empty password
        out: list[str] = []
        size = 0
        started = time.monotonic()
        for page in reader.pages[:MAX_PDF_PAGES]:
            if time.monotonic() - started > MAX_PDF_SECONDS:
                break  # what was read so far is kept
            contents = page.get_contents()
            if contents is not None and len(contents.get_data()) > MAX_PAGE_CONTENT:
                continue  # a page of that many instructions is a drawing, or an attack
            chunk = page.extract_text() or ""
            out.append(chunk)
            size += len(chunk)
            if size > MAX_TEXT_CHARS:
                break
    return "\n\n".join(out)


def _verified_zip(body: bytes, url: str, max_unpacked: int) -> bytes:
    """The zip rebuilt from its members as they really unpack — read in small steps, counted
    against the cap and checked against their CRC — so a zip that lies about its sizes never
    gets one giant decompression in python-docx."""
    refused = (
        f"extract: {url} unpacks to more than fits, over the {max_unpacked}-byte cap; refused "
        "(raise fetch.max_bytes if it is real)"
    )
    out = io.BytesIO()
    total = 0
    with zipfile.ZipFile(io.BytesIO(body)) as zf, zipfile.ZipFile(out, "w") as clean:
        infos = zf.infolist()
        declared = sum(i.file_size for i in infos)
        if len(infos) > MAX_ZIP_ENTRIES or declared > max_unpacked:
            raise ExtractError(refused)
        for info in infos:
            parts: list[bytes] = []
            with zf.open(info) as member:  # CRC checked when the member ends
                while chunk := member.read(64 * 1024):
                    total += len(chunk)
                    if total > max_unpacked:
                        raise ExtractError(refused)
                    parts.append(chunk)
            clean.writestr(info.filename, b"".join(parts))
    return out.getvalue()


def _docx_text(body: bytes, url: str, max_unpacked: int) -> str:
    verified = _verified_zip(body, url, max_unpacked)
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(verified))
    out: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                if cells:
                    out.append(" | ".join(cells))
        elif block.text.strip():
            out.append(block.text)
    return "\n".join(out)
