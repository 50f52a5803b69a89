"""A Capture as WARC records: warcio reads back exactly what came over the wire."""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any

from regwatch.crawlers.fetch import Fetcher, FetchPolicy
from regwatch.store.warc import NOTE_HEADER, iter_records, to_warc
from tests.conftest import LocalSite

RECORD = FetchPolicy(
    user_agent="regwatch-test", timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0, record=True
)
PAGE = "<html><body><h1>Проект постановления</h1><p>Общественное обсуждение до 15 декабря.</p></body></html>"


def _sha256_b32(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


class Read:
    """A record as warcio read it, its payload read while the iterator stood on it."""

    def __init__(self, record: Any, decode: bool = False) -> None:
        self.rec_type = record.rec_type
        self.rec_headers = record.rec_headers
        self.http_headers = record.http_headers
        self.payload = record.content_stream().read() if decode else record.raw_stream.read()


def read(data: bytes, decode: bool = False) -> list[Read]:
    return [Read(r, decode) for r in iter_records(data)]


def test_a_gzipped_response_reads_back_byte_exact(site: LocalSite) -> None:
    wire = gzip.compress(PAGE.encode())
    url = site.add("/draft", wire, headers={"Content-Encoding": "gzip", "X-Note": "as sent"})
    with Fetcher(RECORD) as f:
        resp = f.get(url)
    assert resp.capture is not None
    data, count = to_warc(resp.capture)
    records = read(data)
    assert count == 3 == len(records)
    info, response, request = records
    assert [r.rec_type for r in records] == ["warcinfo", "response", "request"]
    assert info.rec_headers.get_header("WARC-Date") == response.rec_headers.get_header("WARC-Date")
    # the response: headers as received, the body still gzipped, digests over those bytes
    assert response.rec_headers.get_header("WARC-Target-URI") == url
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert response.http_headers.get_statuscode() == "200"
    assert response.http_headers.get_header("Content-Encoding") == "gzip"
    assert response.http_headers.get_header("Content-Length") == str(len(wire))
    assert response.http_headers.get_header("X-Note") == "as sent"
    assert response.rec_headers.get_header("WARC-Payload-Digest") == _sha256_b32(wire)
    assert response.rec_headers.get_header(NOTE_HEADER) is None  # nothing differs from the wire
    assert response.payload == wire
    # the same record decoded, as a replay tool shows it
    [again] = [r for r in read(data, decode=True) if r.rec_type == "response"]
    assert again.payload == PAGE.encode()
    # the request: as sent, tied to its response
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert request.http_headers.get_header("User-Agent") == "regwatch-test"
    assert request.http_headers.protocol == "GET"
    date = response.rec_headers.get_header("WARC-Date")
    assert date.startswith(resp.capture.captured_at.strftime("%Y-%m-%dT%H:%M:%S")) and date.endswith("Z")


def test_redirects_are_records_too_and_notes_say_what_differs(site: LocalSite) -> None:
    site.add("/a", "", status=302, Location="/b")
    url = site.add("/b", PAGE)
    with Fetcher(RECORD) as f:
        resp = f.get(site.base + "/a", {"Authorization": "Bearer secret-token"})
    assert resp.capture is not None
    data, count = to_warc(resp.capture)
    assert b"secret-token" not in gzip.decompress(data)
    records = read(data)
    assert count == 5 == len(records)
    types = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in records]
    assert types[1:] == [
        ("response", site.base + "/a"),
        ("request", site.base + "/a"),
        ("response", url),
        ("request", url),
    ]
    assert records[3].payload == PAGE.encode()
    hop = records[1]
    assert hop.http_headers.get_statuscode() == "302"
    assert "not read" in hop.rec_headers.get_header(NOTE_HEADER)
    request = records[2]
    assert request.http_headers.get_header("Authorization") == "[redacted by regwatch]"
    assert request.rec_headers.get_header(NOTE_HEADER) == "request header Authorization redacted"
