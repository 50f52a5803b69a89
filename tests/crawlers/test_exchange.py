"""The Fetcher's record of each exchange (FetchPolicy.record), against real loopback servers."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from regwatch.crawlers.exchange import REDACTED
from regwatch.crawlers.fetch import Fetcher, FetchPolicy
from tests.conftest import LocalSite

RECORD = FetchPolicy(
    user_agent="regwatch-test",
    timeout=5.0,
    allow_networks=("127.0.0.0/8",),
    per_host_delay=0.0,
    record=True,
)

PAGE = "<html><body><p>Проект закона «Об искусственном интеллекте» — обсуждение</p></body></html>"


def test_nothing_is_recorded_unless_asked(site: LocalSite) -> None:
    url = site.add("/p", PAGE)
    with Fetcher(FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",))) as f:
        assert f.get(url).capture is None


def test_a_gzipped_answer_keeps_its_bytes_as_received(site: LocalSite) -> None:
    wire = gzip.compress(PAGE.encode())
    url = site.add("/p", wire, headers={"Content-Encoding": "gzip"})
    before = datetime.now(UTC)
    with Fetcher(RECORD) as f:
        resp = f.get(url)
    assert resp.body == PAGE.encode()  # the Fetcher decoded it for the parsers…
    assert resp.capture is not None
    [ex] = resp.capture.exchanges
    assert ex.body == wire  # …and the capture keeps what came over the wire
    assert ("Content-Encoding", "gzip") in ex.response_headers
    assert ("Content-Length", str(len(wire))) in ex.response_headers
    assert ex.status == 200 and ex.method == "GET" and ex.url == url
    assert ex.remote_address == "127.0.0.1"
    assert before <= ex.started <= datetime.now(UTC)
    sent = dict(ex.request_headers)
    assert sent["User-Agent"] == "regwatch-test"
    assert sent["Host"] == url.split("/")[2]
    assert ex.notes == ()


def test_redirect_hops_come_first_and_credentials_are_redacted(site: LocalSite) -> None:
    site.add("/old", "", status=301, Location="/new")
    url = site.add("/new", PAGE)
    origin = site.base.replace("http://", "http://")
    with Fetcher(RECORD, origin_headers={origin: {"X-Api-Key": "s3cret"}}) as f:
        resp = f.get(site.base + "/old", {"Cookie": "session=abc"})
    assert resp.capture is not None
    hop, answer = resp.capture.exchanges
    assert (hop.status, hop.url, hop.body) == (301, site.base + "/old", b"")
    assert ("Location", "/new") in hop.response_headers
    assert any("not read" in n for n in hop.notes)
    assert answer.url == url and answer.body == PAGE.encode()
    for ex in (hop, answer):
        sent = dict(ex.request_headers)
        assert sent["X-Api-Key"] == REDACTED and sent["Cookie"] == REDACTED
        assert "request header X-Api-Key redacted" in ex.notes
    # the server did get the real values
    assert site.requests[0][1]["x-api-key"] == "s3cret"
    assert resp.capture.url == url and resp.capture.captured_at == answer.started


@pytest.fixture
def chunked_server() -> Iterator[tuple[str, bytes]]:
    """A real HTTP/1.1 server answering with a gzipped body in two chunks."""
    wire = gzip.compress(PAGE.encode() * 20)
    half = len(wire) // 2
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            chunks = b"".join(
                f"{len(part):x}\r\n".encode() + part + b"\r\n"
                for part in (wire[:half], wire[half:])
            )
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + chunks
                + b"0\r\n\r\n"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/chunked", wire
    thread.join(timeout=5)
    listener.close()


def test_a_chunked_body_is_recorded_dechunked_and_says_so(
    chunked_server: tuple[str, bytes],
) -> None:
    url, wire = chunked_server
    with Fetcher(RECORD) as f:
        resp = f.get(url)
    assert resp.body == PAGE.encode() * 20
    assert resp.capture is not None
    [ex] = resp.capture.exchanges
    assert ex.body == wire
    names = [name.lower() for name, _ in ex.response_headers]
    assert "transfer-encoding" not in names and "content-encoding" in names
    assert ex.notes == ("Transfer-Encoding: chunked removed: the body is recorded de-chunked",)
