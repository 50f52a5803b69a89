"""Being a good guest: per-host request slots, and reading what servers say about when to come
back (Retry-After, Cache-Control max-age, ETag/Last-Modified validators).

Pure helpers plus :class:`HostLimiter`, which the one
:class:`~regwatch.crawlers.fetch.Fetcher` uses for every request hop, whichever thread asks.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["HostLimiter", "Validators", "backoff_seconds", "parse_max_age", "parse_retry_after"]


@dataclass(frozen=True)
class Validators:
    """What a server gave us to ask "has it changed?" next time (conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. None when
    absent or unreadable; never negative."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value[:12]), 10**9))
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_max_age(cache_control: str | None) -> float | None:
    """Freshness lifetime in seconds from Cache-Control (``s-maxage`` wins over ``max-age``);
    0 for ``no-cache``/``no-store``; None when the header says nothing about it."""
    if not cache_control:
        return None
    directives: dict[str, str] = {}
    for part in cache_control.split(","):
        key, _, val = part.strip().partition("=")
        directives[key.strip().lower()] = val.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    for key in ("s-maxage", "max-age"):
        raw = directives.get(key, "")
        if raw.isdigit():
            return float(min(int(raw[:12]), 10**9))
    return None


def backoff_seconds(failures: int, interval_s: float, max_wait: float) -> float:
    """Extra wait before polling a source after ``failures`` in a row: none after the first
    (the normal schedule retries), then two intervals, four, eight… up to ``max_wait``."""
    if failures < 2:
        return 0.0
    return min(interval_s * 2.0 ** min(failures - 1, 40), max_wait)


class HostLimiter:
    """At most ``concurrency`` requests in flight per host, and request starts to one host at
    least ``delay`` seconds apart. Thread-safe; one per Fetcher."""

    def __init__(
        self,
        concurrency: int = 2,
        delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.concurrency = concurrency
        self.delay = max(0.0, delay)
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._active: dict[str, int] = {}
        self._next_start: dict[str, float] = {}

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        host = host.lower()
        with self._cond:
            while self._active.get(host, 0) >= self.concurrency:
                self._cond.wait()
            self._active[host] = self._active.get(host, 0) + 1
            now = self._clock()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self.delay
            if len(self._next_start) > 4096:  # forget hosts whose delay has long passed
                self._next_start = {h: t for h, t in self._next_start.items() if t > now}
        try:
            if start > now:
                self._sleep(start - now)
            yield
        finally:
            with self._cond:
                self._active[host] -= 1
                if not self._active[host]:
                    del self._active[host]
                self._cond.notify_all()
