"""The HTML routes as a browser and a monitoring probe meet them over real HTTP: HEAD answers
like GET, a bad address gets an HTML page (the API keeps JSON), CSV opens in Excel."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)

PAGES = ("/", "/timeline", "/sources", "/export.csv")


@pytest.mark.parametrize("path", PAGES)
def test_head_answers_like_get(http: httpx.Client, path: str) -> None:
    got, head = http.get(path), http.head(path)
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/documents/abc", 400),
        ("/?page=0", 400),
        ("/?per_page=abc", 400),
        ("/timeline?by=planet", 400),
        ("/no-such-page", 404),
        ("/documents/999999", 404),
    ],
)
def test_html_routes_answer_errors_as_pages(http: httpx.Client, path: str, status: int) -> None:
    r = http.get(path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in r.text and 'class="error"' in r.text
    assert '"detail"' not in r.text and "int_parsing" not in r.text


def test_the_api_keeps_json_errors(http: httpx.Client) -> None:
    r = http.get("/api/documents/abc")
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["detail"][0]["loc"] == ["path", "document_id"]


def test_csv_download_starts_with_a_bom_and_reads_back(http: httpx.Client) -> None:
    r = http.get("/export.csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows and "Законопроект об ИИ" in {row["title"] for row in rows}
    assert next(iter(rows[0])) == "signal_id"  # the BOM is not glued to the first header
