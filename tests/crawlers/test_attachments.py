"""Article pages without selectors, legacy charsets, and PDF/DOCX attachments — end to end
through the one Fetcher against a loopback site, and the hostile cases on their own."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.attachments import attachment_kind, attachment_links, attachment_text
from regwatch.crawlers.extract import article_from_page, decode_html
from regwatch.errors import ExtractError
from tests.conftest import LocalSite

POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
BODY = (
    "Министерство цифрового развития опубликовало для публичного обсуждения проект "
    "постановления о цифровых платформах и искусственном интеллекте. Обсуждение продлится до "
    "30 ноября 2026 года на портале открытых нормативных правовых актов."
)
ARTICLE = """<!DOCTYPE html><html lang="ru"><head><title>Новости | Минцифры</title>
<meta property="article:published_time" content="2026-11-18T09:00:00+05:00"></head><body>
<nav><a href="/">Главная</a> <a href="/news">Новости</a> <a href="/annual.pdf">Отчёт</a></nav>
<main><h1>Проект постановления о цифровых платформах</h1><p>{body}</p><p>{body}</p>
<p><a href="/files/draft.pdf">Текст проекта</a>, <a href="/files/table.docx">сравнительная
таблица</a>, <a href="/files/draft.pdf#page=2">стр. 2</a></p></main>
<footer>© 2026 Все права защищены</footer></body></html>"""


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a Helvetica text layer (ASCII), built by hand with a valid xref."""
    ops = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({t}) Tj T*" for t in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


PDF = make_pdf(["Draft Law on Artificial Intelligence", "Article 1. High-risk AI systems"])
DOCX = make_docx(
    ["Сравнительная таблица к проекту закона об ИИ", "Статья 5. Локализация данных"],
    [["Действующая редакция", "Предлагаемая редакция"], ["нет", "реестр систем ИИ"]],
)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_main_text_title_and_date_without_selectors() -> None:
    art = article_from_page(ARTICLE.format(body=BODY), "https://gov.kz/news/1")
    assert art.title == "Проект постановления о цифровых платформах"
    assert art.text.startswith("Министерство цифрового развития") and "Главная" not in art.text
    assert "Все права защищены" not in art.text
    assert art.published is not None and art.published.date().isoformat() == "2026-11-18"
    assert art.lang == "ru"


def test_a_page_without_main_text_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="text_selector"):
        article_from_page("<html><body><nav><a href='/'>x</a></nav></body></html>", "https://x/1")


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r", "cp866"])
def test_undeclared_legacy_cyrillic_is_sniffed(charset: str) -> None:
    page = ARTICLE.format(body=BODY).replace("©", "(c)")
    html = decode_html(page.encode(charset))  # no header, no <meta charset>
    assert BODY in html


def test_attachment_links_stay_inside_the_article() -> None:
    links = attachment_links(ARTICLE.format(body=BODY), "https://gov.kz/news/1")
    assert links == [
        ("https://gov.kz/files/draft.pdf", "Текст проекта"),
        ("https://gov.kz/files/table.docx", "сравнительная таблица"),
    ]


def test_pdf_and_docx_text() -> None:
    assert attachment_kind(PDF, "application/octet-stream", "https://x/a") == "pdf"
    assert attachment_kind(DOCX, DOCX_TYPE, "https://x/a") == "docx"
    assert attachment_kind(DOCX, "application/zip", "https://x/a.zip") is None
    pdf_text = attachment_text(PDF, "https://x/a.pdf", "pdf", 1 << 20)
    assert "Draft Law on Artificial Intelligence" in pdf_text and "High-risk" in pdf_text
    docx_text = attachment_text(DOCX, "https://x/a.docx", "docx", 1 << 20)
    assert docx_text.splitlines() == [
        "Сравнительная таблица к проекту закона об ИИ",
        "Статья 5. Локализация данных",
        "Действующая редакция | Предлагаемая редакция",
        "нет | реестр систем ИИ",
    ]


def test_docx_zip_bomb_is_refused_before_unpacking() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (32 * 1024 * 1024))
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(ExtractError, match="over the 1048576-byte cap"):
        attachment_text(buf.getvalue(), "https://x/bomb.docx", "docx", 1 << 20)


def test_a_zip_lying_about_its_sizes_is_refused_without_unpacking_it() -> None:
    """The central directory and local header claim 1,000 bytes; the member inflates to 50 MB."""
    import struct
    import tracemalloc

    real = io.BytesIO()
    docx.Document().save(real)  # a real DOCX, whose document part then grows to 50 MB
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(real.getvalue())) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "word/document.xml":
                part += b" " * 50_000_000  # whitespace after the root: still valid XML
            zf.writestr(info.filename, part)
    data = bytearray(buf.getvalue())
    name = b"word/document.xml"
    local = data.find(name)  # the name follows a local header (30 bytes) ...
    central = data.find(name, local + 1)  # ... and a central directory entry (46 bytes)
    struct.pack_into("<I", data, local - 30 + 22, 1000)  # uncompressed size
    struct.pack_into("<I", data, central - 46 + 24, 1000)
    tracemalloc.start()
    try:
        with pytest.raises(ExtractError, match=r"Bad CRC|cap"):
            attachment_text(bytes(data), "https://gov.kz/a.docx", "docx", 10 * 1024 * 1024)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000  # python-docx would have inflated it whole: 50 MB and more


def test_pages_sharing_a_huge_content_stream_cost_little() -> None:
    """Eight pages that all point at one 1 MiB deflated stream of empty text runs: pypdf would
    parse it again for every page (seconds each); such pages are passed over."""
    import time
    import zlib

    stream = zlib.compress(b"BT /F1 12 Tf 10 10 Td () Tj ET\n" * 32_768, 9)
    kids = " ".join(f"{5 + i} 0 R" for i in range(8))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count 8 >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ] + [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * 8
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    started = time.monotonic()
    with pytest.raises(ExtractError, match="no text layer"):
        attachment_text(out.getvalue(), "https://gov.kz/a.pdf", "pdf", 10 * 1024 * 1024)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntrailer garbage", "pdf"),
        (PDF[: len(PDF) // 2], "pdf"),
        (b"PK\x03\x04not really a zip", "docx"),
        (make_pdf([]), "pdf"),  # no text layer: a scan
    ],
)
def test_broken_attachments_are_extract_errors(body: bytes, kind: str) -> None:
    with pytest.raises(ExtractError, match=r"x/f\."):
        attachment_text(body, f"https://x/f.{kind}", kind, 1 << 20)


def test_html_source_collects_articles_and_their_attachments(site: LocalSite) -> None:
    site.add(
        "/news",
        '<ul><li><a class="n" href="/news/1">1</a></li><li><a class="n" href="/files/law.pdf">'
        'PDF</a></li><li><a class="n" href="/news/2">2</a></li></ul>',
    )
    site.add("/news/1", ARTICLE.format(body=BODY))
    koi8 = ARTICLE.format(body=BODY.replace("платформах", "сервисах")).replace("©", "(c)")
    site.add("/news/2", koi8.encode("koi8-r"), content_type="text/html")  # no charset anywhere
    site.add("/files/draft.pdf", PDF, content_type="application/pdf")
    site.add("/files/law.pdf", PDF, content_type="application/octet-stream")
    site.add("/files/table.docx", DOCX, content_type=DOCX_TYPE)
    source = SourceConfig(name="gov", url=site.base + "/news", type="html", link_selector="a.n")
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    by_url = {d.url.removeprefix(site.base): d for d in got.documents}
    assert sorted(by_url) == [  # crawled concurrently: any order
        "/files/draft.pdf",
        "/files/law.pdf",
        "/files/table.docx",
        "/news/1",
        "/news/2",
    ]
    assert "сервисах" in by_url["/news/2"].text
    assert by_url["/files/draft.pdf"].title == (
        "Проект постановления о цифровых платформах — Текст проекта"
    )
    assert "Draft Law on Artificial Intelligence" in by_url["/files/draft.pdf"].text
    assert "реестр систем ИИ" in by_url["/files/table.docx"].text
    assert by_url["/files/law.pdf"].title == "law.pdf"
    assert site.hits.count("/files/draft.pdf") == 1  # linked from both articles: fetched once
    assert "/annual.pdf" not in site.hits  # navigation links are not attachments
    assert got.skipped == []


def test_oversized_attachment_is_skipped_and_the_article_kept(site: LocalSite) -> None:
    site.add("/news", '<a class="n" href="/news/1">1</a>')
    site.add("/news/1", ARTICLE.format(body=BODY))
    site.add("/files/draft.pdf", PDF + b"%" + b"x" * 4096, content_type="application/pdf")
    source = SourceConfig(name="gov", url=site.base + "/news", type="html", link_selector="a.n")
    policy = FetchPolicy(
        timeout=5.0, max_bytes=4096, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
    )
    with Fetcher(policy) as fetcher:
        got = collect(source, fetcher)
    assert [d.url.removeprefix(site.base) for d in got.documents] == ["/news/1"]
    assert any("draft.pdf" in s and "cap" in s for s in got.skipped)
    assert any("table.docx" in s and "404" in s for s in got.skipped)


def test_a_page_with_only_a_title_and_a_pdf_still_yields_the_pdf(site: LocalSite) -> None:
    site.add("/list", '<a class="n" href="/d/7">7</a>')
    site.add(
        "/d/7",
        "<html><head><title>Проект указа №7</title></head><body><main>"
        "<a href='/d/7.pdf'>Скачать</a></main></body></html>",
    )
    site.add("/d/7.pdf", PDF, content_type="application/pdf")
    source = SourceConfig(name="gov", url=site.base + "/list", type="html", link_selector="a.n")
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    [doc] = got.documents
    assert doc.title == "Проект указа №7 — Скачать" and "Draft Law" in doc.text
    assert len(got.skipped) == 1 and "no main text" in got.skipped[0]


def test_attachment_scan_reads_a_bounded_number_of_links() -> None:
    many = "<a href='/x.pdf'>x</a>" * 6000 + "<a href='/late.pdf'>late</a>"
    assert attachment_links(f"<main>{many}</main>", "https://gov.kz/n/1") == [
        ("https://gov.kz/x.pdf", "x")
    ]
