"""Politeness against a real loopback server: conditional GET, Retry-After, per-host limits,
brotli with the same cap."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import brotli
import pytest

from regwatch.crawlers.feeds import parse_feed
from regwatch.crawlers.fetch import Fetcher, FetchPolicy
from regwatch.crawlers.politeness import (
    HostLimiter,
    Validators,
    backoff_seconds,
    parse_max_age,
    parse_retry_after,
)
from regwatch.errors import FetchError
from tests.conftest import LocalSite, Route

LOCAL = FetchPolicy(
    user_agent="regwatch-test", timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
)


def _etag_route(body: bytes, etag: str = '"v1"') -> object:
    def route(headers: dict[str, str]) -> Route:
        if headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": etag}, body

    return route


def test_conditional_get_returns_304_without_a_body(site: LocalSite) -> None:
    site.routes["/feed"] = _etag_route(b"<rss/>")  # type: ignore[assignment]
    with Fetcher(LOCAL) as f:
        first = f.get(site.base + "/feed")
        assert first.body == b"<rss/>" and first.validators == Validators('"v1"', None)
        second = f.get(site.base + "/feed", validators=first.validators)
    assert second.not_modified and second.body == b""
    assert site.requests[1][1]["if-none-match"] == '"v1"'


def test_last_modified_is_sent_as_if_modified_since(site: LocalSite) -> None:
    stamp = "Wed, 25 Nov 2026 10:00:00 GMT"

    def route(headers: dict[str, str]) -> Route:
        if headers.get("if-modified-since") == stamp:
            return 304, {}, b""
        return 200, {"Last-Modified": stamp}, b"<rss/>"

    site.routes["/feed"] = route
    with Fetcher(LOCAL) as f:
        first = f.get(site.base + "/feed")
        assert first.validators == Validators(None, stamp)
        assert f.get(site.base + "/feed", validators=first.validators).not_modified


def test_304_without_validators_sent_is_an_error(site: LocalSite) -> None:
    site.add("/odd", "", status=304)
    with Fetcher(LOCAL) as f, pytest.raises(FetchError, match="HTTP 304"):
        f.get(site.base + "/odd")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_read_on_429_and_503(site: LocalSite, status: int) -> None:
    site.add("/busy", "slow down", status=status, headers={"Retry-After": "120"})
    with Fetcher(LOCAL) as f, pytest.raises(FetchError, match="retry after 120s") as info:
        f.get(site.base + "/busy")
    assert info.value.status == status and info.value.retry_after == 120.0


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(later, now) == 300.0
    assert parse_retry_after(format_datetime(now - timedelta(days=1), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None
    assert parse_retry_after("9" * 40) == 1e9  # absurd values are bounded


def test_cache_control_max_age() -> None:
    assert parse_max_age("public, max-age=600") == 600.0
    assert parse_max_age('max-age="60", s-maxage=300') == 300.0
    assert parse_max_age("no-cache, max-age=600") == 0.0
    assert parse_max_age("private") is None and parse_max_age(None) is None


def test_feed_ttl_and_syndication_period() -> None:
    ttl = b'<rss version="2.0"><channel><title>t</title><ttl>90</ttl></channel></rss>'
    assert parse_feed(ttl, "https://x.example/rss", "x").ttl_seconds == 5400.0
    sy = (
        b'<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>'
        b"<title>t</title><sy:updatePeriod>hourly</sy:updatePeriod>"
        b"<sy:updateFrequency>2</sy:updateFrequency></channel></rss>"
    )
    assert parse_feed(sy, "https://x.example/rss", "x").ttl_seconds == 1800.0
    none = b'<rss version="2.0"><channel><title>t</title><ttl>soon</ttl></channel></rss>'
    assert parse_feed(none, "https://x.example/rss", "x").ttl_seconds is None


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n, 60, 1000) for n in (0, 1, 2, 3, 5, 6)] == [0, 0, 120, 240, 960, 1000]
    assert backoff_seconds(10_000, 60, 3600) == 3600


def test_per_host_concurrency_limit(site: LocalSite) -> None:
    """Six threads share one Fetcher allowed two requests per host: the server never sees
    more than two at once (each request is held until two are in flight, or briefly)."""
    lock = threading.Condition()
    state = {"now": 0, "max": 0}

    def route(_headers: dict[str, str]) -> Route:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            lock.notify_all()
            lock.wait_for(lambda: state["now"] >= 2, timeout=1.0)
        with lock:
            state["now"] -= 1
        return 200, {}, b"ok"

    site.routes["/slow"] = route
    policy = FetchPolicy(
        timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_concurrency=2, per_host_delay=0.0
    )
    with Fetcher(policy) as f:
        threads = [threading.Thread(target=f.get, args=(site.base + "/slow",)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert len(site.hits) == 6 and state["max"] == 2


def test_per_host_delay_spaces_request_starts(site: LocalSite) -> None:
    starts: list[float] = []

    def route(_headers: dict[str, str]) -> Route:
        starts.append(time.monotonic())
        return 200, {}, b"ok"

    site.routes["/p"] = route
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.3)
    with Fetcher(policy) as f:
        for _ in range(3):
            f.get(site.base + "/p")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # The limiter spaces the starts; arrival at the server adds connect and thread jitter
    # (up to ~50 ms seen on a loaded 2-core machine), so allow that much. Without the
    # limiter these arrive a few milliseconds apart.
    assert len(gaps) == 2 and min(gaps) >= 0.2, gaps


def test_host_limiter_delay_uses_its_clock() -> None:
    now = [100.0]
    slept: list[float] = []
    limiter = HostLimiter(1, 2.0, clock=lambda: now[0], sleep=slept.append)
    for _ in range(3):
        with limiter.slot("Example.org"):
            pass
    with limiter.slot("other.example"):
        pass
    assert slept == [2.0, 4.0]  # the third start waits for the second's slot too


def test_brotli_body_is_decoded(site: LocalSite) -> None:
    text = b"<rss>" + "Закон об ИИ ".encode() * 500 + b"</rss>"
    url = site.add("/br", brotli.compress(text), headers={"Content-Encoding": "br"})
    with Fetcher(LOCAL) as f:
        assert f.get(url).body == text
    assert "br" in site.requests[0][1]["accept-encoding"]


def test_brotli_bomb_stops_at_cap_after_decompression(site: LocalSite) -> None:
    bomb = brotli.compress(b"\0" * (16 * 1024 * 1024), quality=5)
    assert len(bomb) < 1000
    url = site.add(
        "/bomb", bomb, content_type="application/xml", headers={"Content-Encoding": "br"}
    )
    policy = FetchPolicy(
        timeout=5.0, max_bytes=256 * 1024, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
    )
    started = time.monotonic()
    with Fetcher(policy) as f, pytest.raises(FetchError, match="after decompression"):
        f.get(url)
    assert time.monotonic() - started < 2.0


def test_corrupt_brotli_is_a_fetch_error(site: LocalSite) -> None:
    url = site.add("/bad", b"\xff\xff\xff\xff not brotli", headers={"Content-Encoding": "br"})
    with Fetcher(LOCAL) as f, pytest.raises(FetchError, match="corrupt br"):
        f.get(url)
