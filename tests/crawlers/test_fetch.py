from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from regwatch.crawlers.addresses import CachedResolver, check_address, parse_networks
from regwatch.crawlers.fetch import Fetcher, FetchPolicy
from regwatch.errors import FetchError, UnsafeURLError
from tests.conftest import LocalSite

LOCAL = FetchPolicy(
    user_agent="regwatch-test", timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
)


def test_get_returns_body_and_headers(site: LocalSite) -> None:
    url = site.add("/feed.xml", "<rss/>", content_type="application/rss+xml; charset=koi8-r")
    with Fetcher(LOCAL) as f:
        resp = f.get(url)
    assert resp.body == b"<rss/>"
    assert resp.content_type == "application/rss+xml"
    assert resp.charset == "koi8-r"


def test_http_error_status_is_a_fetch_error(site: LocalSite) -> None:
    with Fetcher(LOCAL) as f, pytest.raises(FetchError, match="HTTP 404") as info:
        f.get(site.base + "/missing")
    assert info.value.status == 404


def test_redirects_are_followed_and_limited(site: LocalSite) -> None:
    site.add("/a", "", status=302, Location="/b")
    site.add("/b", "", status=301, Location=site.base + "/c")
    site.add("/c", "done")
    with Fetcher(LOCAL) as f:
        assert f.get(site.base + "/a").url == site.base + "/c"
    site.add("/loop", "", status=302, Location="/loop")
    with Fetcher(LOCAL) as f, pytest.raises(FetchError, match="redirected more than 5"):
        f.get(site.base + "/loop")


def test_redirect_to_other_scheme_is_refused(site: LocalSite) -> None:
    site.add("/evil", "", status=302, Location="file:///etc/passwd")
    with Fetcher(LOCAL) as f, pytest.raises(UnsafeURLError, match="not http or https"):
        f.get(site.base + "/evil")


def test_loopback_refused_unless_allowed(site: LocalSite) -> None:
    url = site.add("/x", "hello")
    with (
        Fetcher(FetchPolicy(per_host_delay=0.0)) as f,
        pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1"),
    ):
        f.get(url)
    assert site.hits == []  # refused before any connection


def test_hostname_resolving_to_private_address_is_refused() -> None:
    def transport(_request: httpx.Request) -> httpx.Response:
        raise AssertionError("must not connect")

    with (
        Fetcher(
            FetchPolicy(per_host_delay=0.0),
            transport=httpx.MockTransport(transport),
            resolver=lambda host: ["10.1.2.3"],
        ) as f,
        pytest.raises(UnsafeURLError, match=r"10\.1\.2\.3"),
    ):
        f.get("https://intranet.example/feed")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "fc00::1",
        "0.0.0.0",
        "::ffff:192.168.1.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_address(address)


def test_public_address_passes() -> None:
    check_address("93.184.216.34")


def test_gzip_bomb_stops_at_cap_after_decompression(site: LocalSite) -> None:
    bomb = gzip.compress(b"\0" * (4 * 1024 * 1024))
    assert len(bomb) < 10_000
    url = site.add(
        "/bomb", bomb, content_type="application/xml", headers={"Content-Encoding": "gzip"}
    )
    policy = FetchPolicy(
        timeout=5.0, max_bytes=256 * 1024, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
    )
    with Fetcher(policy) as f, pytest.raises(FetchError, match="after decompression"):
        f.get(url)


def test_declared_oversize_body_refused(site: LocalSite) -> None:
    url = site.add("/big", b"x" * 5000)
    policy = FetchPolicy(
        timeout=5.0, max_bytes=1024, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
    )
    with Fetcher(policy) as f, pytest.raises(FetchError, match="over the 1024-byte cap"):
        f.get(url)


def test_user_agent_is_sent() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["user-agent"])
        return httpx.Response(200, stream=httpx.ByteStream(b"ok"))

    with Fetcher(
        FetchPolicy(user_agent="regwatch/9 (ops@example.org)", per_host_delay=0.0),
        transport=httpx.MockTransport(handler),
        resolver=lambda h: ["93.184.216.34"],
    ) as f:
        f.get("https://example.org/")
    assert seen == ["regwatch/9 (ops@example.org)"]


def test_unreachable_host_is_a_fetch_error() -> None:
    policy = FetchPolicy(timeout=2.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    with Fetcher(policy) as f, pytest.raises(FetchError, match="failed"):
        f.get("http://127.0.0.1:9/")  # discard port: connection refused


def test_redirect_hop_to_private_address_is_refused() -> None:
    """A public URL redirecting to an internal host is refused at the hop, before connecting."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://metadata.internal/latest"})

    def resolver(host: str) -> list[str]:
        return {"news.example": ["93.184.216.34"], "metadata.internal": ["169.254.169.254"]}[host]

    fetcher = Fetcher(
        FetchPolicy(per_host_delay=0.0), transport=httpx.MockTransport(handler), resolver=resolver
    )
    with fetcher as f, pytest.raises(UnsafeURLError, match=r"169\.254\.169\.254"):
        f.get("https://news.example/feed")
    assert seen == ["https://news.example/feed"]


def test_dns_rebinding_is_caught_at_connect_time(site: LocalSite) -> None:
    """The name resolves to a public address when checked, then to loopback: the connection
    goes only to checked addresses, so the loopback server is never reached."""
    port = site.base.rsplit(":", 1)[1]
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    site.add("/secret", "internal")
    fetcher = Fetcher(
        FetchPolicy(timeout=3.0, per_host_delay=0.0), resolver=lambda host: next(answers)
    )
    with fetcher as f, pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1"):
        f.get(f"http://rebind.example:{port}/secret")
    assert site.hits == []


def test_stacked_encodings_are_refused(site: LocalSite) -> None:
    body = gzip.compress(gzip.compress(b"\0" * 100_000))
    url = site.add("/b", body, headers={"Content-Encoding": "gzip, gzip"})
    with Fetcher(LOCAL) as f, pytest.raises(FetchError, match="stacked encodings"):
        f.get(url)


def test_raw_deflate_and_zlib_deflate_both_decode(site: LocalSite) -> None:
    text = b"<rss>" + b"x" * 1000 + b"</rss>"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    site.add("/raw", raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"})
    site.add("/zlib", zlib.compress(text), headers={"Content-Encoding": "deflate"})
    with Fetcher(LOCAL) as f:
        assert f.get(site.base + "/raw").body == text
        assert f.get(site.base + "/zlib").body == text


@pytest.mark.parametrize(
    "url", ["http://[::1/x", "http://example.com:99999/a", "ftp://x/y", "http:///nohost"]
)
def test_malformed_urls_are_unsafe_url_errors(url: str) -> None:
    with Fetcher(LOCAL) as f, pytest.raises(UnsafeURLError):
        f.get(url)


def test_sixtofour_loopback_is_not_public() -> None:
    with pytest.raises(UnsafeURLError):
        check_address("2002:7f00:1::1")


class _Dripper:
    """A real server that answers a status and then drips its body a byte at a time."""

    def __init__(self, status: int, every: float) -> None:
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "200")
                self.end_headers()
                self.wfile.flush()
                try:
                    for _ in range(200):
                        time.sleep(every)  # the slowness under test
                        self.wfile.write(b"x")
                        self.wfile.flush()
                except OSError:
                    return  # the client gave up, as it should

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [200, 404, 503])
def test_a_dripping_body_cannot_outlast_the_total_deadline(status: int) -> None:
    """Each byte arrives inside the read timeout; the request still ends at its deadline."""
    import time

    drip = _Dripper(status, every=0.3)
    try:
        with Fetcher(
            FetchPolicy(timeout=1.5, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
        ) as f:
            started = time.monotonic()
            with pytest.raises(FetchError, match=r"timed out|took longer"):
                f.get(drip.url)
            assert time.monotonic() - started < 2.5
    finally:
        drip.close()


def test_cached_dns_answers_are_still_checked_and_expire() -> None:
    """The Fetcher's default resolver keeps answers a minute: one lookup for many requests to
    a host, every answer still checked (a private one is refused from the cache too), failures
    not kept, and an answer asked again once its time is up."""
    asked: list[str] = []
    now = [0.0]

    def resolver(host: str) -> list[str]:
        asked.append(host)
        if host == "gone.example":
            raise FetchError("fetch: cannot resolve host 'gone.example'")
        return {"news.example": ["93.184.216.34"], "intranet.example": ["10.0.0.7"]}[host]

    cached = CachedResolver(resolver, ttl=60.0, clock=lambda: now[0])
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, stream=httpx.ByteStream(b"ok"))
    )
    with Fetcher(FetchPolicy(per_host_delay=0.0), transport=transport, resolver=cached) as f:
        for i in range(5):
            assert f.get(f"https://News.example/a/{i}").body == b"ok"
        for _ in range(2):
            with pytest.raises(UnsafeURLError, match=r"10\.0\.0\.7"):
                f.get("https://intranet.example/")
            with pytest.raises(FetchError, match="cannot resolve"):
                f.get("https://gone.example/")
        assert asked == ["news.example", "intranet.example", "gone.example", "gone.example"]
        now[0] = 61.0
        f.get("https://news.example/again")
    assert asked[-1] == "news.example"
    with Fetcher() as default:
        assert isinstance(default._resolve, CachedResolver)


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/",
    ],
)
def test_a_loopback_allow_list_never_opens_cloud_metadata(site: LocalSite, target: str) -> None:
    """Allowing the loopback demo used to allow every private address: a redirect to the
    metadata service was fetched. Now each hop is checked against the listed networks."""
    url = site.add("/feed", "", status=302, Location=target)
    with Fetcher(LOCAL) as f, pytest.raises(UnsafeURLError, match="cloud metadata"):
        f.get(url)
    assert site.hits == ["/feed"]


def test_broad_networks_do_not_cover_link_local_but_the_network_itself_does() -> None:
    wide = parse_networks(["0.0.0.0/0", "::/0", "100.64.0.0/10"])
    with pytest.raises(UnsafeURLError, match="lists that network itself"):
        check_address("169.254.169.254", wide)
    with pytest.raises(UnsafeURLError):
        check_address("100.100.100.200", wide)
    check_address("100.64.1.1", wide)  # a carrier-grade NAT address inside the listed one
    check_address("10.1.2.3", wide)
    check_address("169.254.169.254", parse_networks(["169.254.169.254/32"]))
    check_address("169.254.10.1", parse_networks(["169.254.0.0/16"]))


def test_only_listed_private_networks_are_fetched(site: LocalSite) -> None:
    url = site.add("/x", "hello")
    only_ten = FetchPolicy(timeout=5.0, allow_networks=("10.0.0.0/8",), per_host_delay=0.0)
    with Fetcher(only_ten) as f, pytest.raises(UnsafeURLError, match=r"fetch\.allow_networks"):
        f.get(url)
    with Fetcher(LOCAL) as f:
        assert f.get(url).body == b"hello"
    with pytest.raises(ValueError, match="CIDR"):
        parse_networks(["10.0.0.1/8"])


def test_source_credentials_go_to_their_origin_only(site: LocalSite) -> None:
    other = LocalSite()
    try:
        site.add("/feed", "", status=302, Location=other.base + "/elsewhere")
        site.add("/own", "ok")
        other.add("/elsewhere", "moved")
        secret = {"Authorization": "Basic cmVhZGVyOnB3"}
        with Fetcher(LOCAL, origin_headers={site.base + "/feed": secret}) as f:
            assert f.get(site.base + "/own").body == b"ok"
            assert f.get(site.base + "/feed").body == b"moved"
        assert site.requests[0][1]["authorization"] == "Basic cmVhZGVyOnB3"
        assert site.requests[1][1]["authorization"] == "Basic cmVhZGVyOnB3"
        assert "authorization" not in other.requests[0][1]  # never past a redirect elsewhere
    finally:
        other.close()
