"""The one HTTP client every outbound request goes through.

Rules applied to every request and every redirect hop: only http/https; the host's addresses
are checked when the URL is checked *and again at connect time* — the connection goes to the
address that was checked, so DNS rebinding cannot slip a private address in — refusing
loopback, private, reserved and multicast ones unless their network is in ``allow_networks``,
and link-local and cloud-metadata ones unless that very network is listed (crawlers/addresses.py);
a deadline for the whole request including redirects; a body cap counted *after*
decompression, decompressing ourselves in bounded steps (gzip/deflate/brotli bombs stop at
the cap); a redirect limit; a per-host limit on requests in flight and a delay between request
starts (:class:`~regwatch.crawlers.politeness.HostLimiter`). Conditional GET: with
validators, a 304 is returned without a body; a 429/503 carries the server's Retry-After in
``FetchError.retry_after``. The transport is swappable (``httpx.MockTransport`` in tests).
With ``FetchPolicy.record`` every exchange of a successful fetch comes back on the Response as a
:class:`~regwatch.crawlers.exchange.Capture` — the body as received, still compressed — for
the evidence store.

Synchronous on purpose: Scrapy's requests reach it on a thread pool (crawlers/crawl.py). An
async path through httpx's ``AsyncClient`` ran at 0.57–0.85 of a plain httpx loop, its async
stack costing ~1.0 ms of CPU per request against ~0.3 ms for the sync one (bench/README.md,
"Collection").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from regwatch.config.settings import FetchConfig
from regwatch.crawlers.addresses import (
    CachedResolver,
    IPNetwork,
    Resolver,
    check_address,
    host_addresses,
    parse_networks,
    system_resolver,
)
from regwatch.crawlers.decode import ACCEPT_ENCODING, Decoder
from regwatch.crawlers.exchange import Capture, Exchange, as_recorded, exchange_of, remote_address
from regwatch.crawlers.politeness import HostLimiter, Validators, parse_max_age, parse_retry_after
from regwatch.errors import FetchError, UnsafeURLError

__all__ = ["FetchPolicy", "Fetcher", "Limiter", "Response", "origin_of"]


class Limiter(Protocol):
    """Per-host request slots: ``with limiter.slot(host):`` around each request hop."""

    def slot(self, host: str) -> AbstractContextManager[None]: ...


# Statuses whose Retry-After header is read into FetchError.retry_after.
_RETRY_STATUSES = (429, 503)

_SETTINGS = FetchConfig()  # the [fetch] settings' declared defaults


@dataclass(frozen=True)
class FetchPolicy:
    """How the fetcher behaves; each default is the [fetch] setting's of the same name
    (declared once, in config/settings.py). Built from config by ``commands.common``."""

    user_agent: str = _SETTINGS.user_agent
    timeout: float = _SETTINGS.timeout
    max_bytes: int = _SETTINGS.max_bytes
    max_redirects: int = _SETTINGS.max_redirects
    allow_networks: tuple[str, ...] = _SETTINGS.allow_networks  # CIDR; the demo: 127.0.0.0/8
    per_host_concurrency: int = _SETTINGS.per_host_concurrency
    per_host_delay: float = _SETTINGS.per_host_delay
    # Keep each successful fetch's exchanges (request and response as on the wire) on the
    # Response as a Capture, for the evidence store ([evidence] enabled).
    record: bool = False


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # With FetchPolicy.record: every exchange of this fetch (redirect hops, then the answer).
    capture: Capture | None = field(default=None, repr=False, compare=False)

    @property
    def not_modified(self) -> bool:
        """304: the validators we sent still match; there is no body to parse."""
        return self.status == 304

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))

    @property
    def max_age(self) -> float | None:
        """Seconds the response stays fresh per Cache-Control, or None if it does not say."""
        return parse_max_age(self.headers.get("cache-control"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"'").lower()
        return None


_DEADLINE = threading.local()  # .at: the monotonic deadline of this thread's request


class _DeadlineStream(httpcore.NetworkStream):
    """Every read and write waits at most until the request's total deadline, so a server
    that drips a byte just inside each timeout cannot stretch a request past it."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    @staticmethod
    def _left(timeout: float | None) -> float | None:
        at: float | None = getattr(_DEADLINE, "at", None)
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the request's total deadline has passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _DeadlineStream._left(timeout)
        return _DeadlineStream(
            super().connect_tcp(host, port, timeout, local_address, socket_options)
        )


class _GuardedBackend(_DeadlineBackend):
    """Resolves, checks and connects to the checked address itself."""

    def __init__(self, resolve: Resolver, allowed: tuple[IPNetwork, ...]) -> None:
        self._resolve = resolve
        self._allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = host_addresses(host, self._resolve)
        for address in addresses:
            check_address(address, self._allowed)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address for {host}")


def _guarded_transport(resolve: Resolver, allowed: tuple[IPNetwork, ...]) -> httpx.HTTPTransport:
    """Our transport: address checks at connect time and the total deadline on every read
    and write."""
    transport = httpx.HTTPTransport()
    backend = _GuardedBackend(resolve, allowed)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=backend
    )
    return transport


_DRAIN_BYTES = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, lower case, the port always written."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return ""
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def _drain(resp: httpx.Response) -> None:
    """Read and drop a short error/304 body so the connection can be reused; a longer one is
    left unread (the connection is then closed instead)."""
    length = resp.headers.get("content-length", "")
    if length.isdigit() and int(length) <= _DRAIN_BYTES:
        for _chunk in resp.iter_raw():
            pass


class Fetcher:
    """A small, strict HTTP GET client. Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        resolver: Resolver | None = None,
        origin_headers: Mapping[str, Mapping[str, str]] | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        """``origin_headers``: headers sent only to one origin (``https://host:443``), such as
        a source's credentials (``auth_env``/``headers_env``); never to a redirect elsewhere.
        ``limiter``: the per-host slots every request hop waits for; by default this
        process's own :class:`HostLimiter` (``regwatch worker`` passes one shared through
        the database)."""
        self.policy = policy or FetchPolicy()
        self._origin_headers = {origin_of(o): dict(h) for o, h in (origin_headers or {}).items()}
        self._resolve = resolver or CachedResolver(system_resolver)
        try:
            self._allowed = parse_networks(self.policy.allow_networks)
        except ValueError as exc:
            raise UnsafeURLError(f"fetch: fetch.allow_networks: {exc}") from None
        self.limiter: Limiter = limiter or HostLimiter(
            self.policy.per_host_concurrency, self.policy.per_host_delay
        )
        if transport is None:
            transport = _guarded_transport(self._resolve, self._allowed)
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout),
            headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def check_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # raises on a port out of range
        except ValueError as exc:
            raise UnsafeURLError(f"fetch: {url!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https"):
            raise UnsafeURLError(f"fetch: {url!r} is not http or https; only web URLs are fetched")
        if not host:
            raise UnsafeURLError(f"fetch: {url!r} has no host")
        for address in host_addresses(host, self._resolve):
            try:
                check_address(address, self._allowed)
            except UnsafeURLError as exc:
                raise UnsafeURLError(f"fetch: {url} resolves to {address}: {exc}") from None

    def get(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        validators: Validators | None = None,
    ) -> Response:
        """GET ``url`` under the policy; raise FetchError on any failure or non-2xx status.

        With ``validators`` (from an earlier response) the request is conditional, and a 304
        comes back as a Response with ``not_modified`` set and no body read.
        """
        sent = dict(headers or {})
        if validators:
            sent.update(validators.headers())
        deadline: float | None = None
        current = url
        hops: list[Exchange] = []
        for _hop in range(self.policy.max_redirects + 1):
            self.check_url(current)
            host = urlsplit(current).hostname or ""
            with self.limiter.slot(host):
                if deadline is None:  # waiting for a slot is not part of the request's time
                    deadline = time.monotonic() + self.policy.timeout
                secret = self._origin_headers.get(origin_of(current), {})
                hop = {**sent, **secret}
                status, resp_headers, body, location, exchange = self._once(
                    current, hop, deadline, secret.keys()
                )
            if exchange is not None:
                hops.append(exchange)
            if location is None:
                if status == 304 and validators:
                    return Response(url=current, status=status, headers=resp_headers)
                if not 200 <= status < 300:
                    retry_after = None
                    if status in _RETRY_STATUSES:
                        retry_after = parse_retry_after(resp_headers.get("retry-after"))
                    wait = f"; server asks to retry after {retry_after:.0f}s" if retry_after else ""
                    raise FetchError(
                        f"fetch: {current} answered HTTP {status}{wait}",
                        status=status,
                        retry_after=retry_after,
                    )
                capture = Capture(tuple(hops)) if hops else None
                return Response(current, status, resp_headers, body, capture)
            current = urljoin(current, location)
        raise FetchError(
            f"fetch: {url} redirected more than {self.policy.max_redirects} times; "
            "check the source URL or raise fetch.max_redirects"
        )

    def _once(
        self, url: str, headers: dict[str, str], deadline: float, secret: Iterable[str] = ()
    ) -> tuple[int, dict[str, str], bytes, str | None, Exchange | None]:
        """One request: status, headers (lower-cased), decoded body, redirect target, and
        with ``policy.record`` the exchange as on the wire (redirects and 2xx only)."""
        cap = self.policy.max_bytes
        record = self.policy.record
        started = datetime.now(UTC)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"fetch: {url} took longer than {self.policy.timeout}s in total")
        _DEADLINE.at = deadline
        try:
            with self._client.stream(
                "GET", url, headers=headers, timeout=httpx.Timeout(remaining)
            ) as resp:
                remote = remote_address(resp) if record else None  # before the socket closes
                if resp.is_redirect and "location" in resp.headers:
                    hop = None
                    if record:
                        note = "the redirect's body was not read; the payload is empty"
                        hop = exchange_of(resp, started, remote, b"", secret, [note])
                    return resp.status_code, {}, b"", resp.headers["location"], hop
                lowered = {k.lower(): v for k, v in resp.headers.items()}
                if resp.status_code == 304 or not 200 <= resp.status_code < 300:
                    _drain(resp)  # nothing is parsed; a short body is read to keep the connection
                    return resp.status_code, lowered, b"", None, None
                length = resp.headers.get("content-length", "")
                if length.isdigit() and int(length) > cap:
                    raise FetchError(f"fetch: {url} is {length} bytes, over the {cap}-byte cap")
                encoding = resp.headers.get("content-encoding", "")
                decoder = Decoder(encoding, url)
                chunks: list[bytes] = []
                wire: list[bytes] = []  # as received, when that differs from the decoded body
                keep_wire = record and bool(encoding.strip())
                size = 0
                for raw in resp.iter_raw():
                    if keep_wire:
                        wire.append(raw)
                    for chunk in decoder.feed(raw, cap - size):
                        size += len(chunk)
                        if size > cap:
                            raise FetchError(
                                f"fetch: {url} body exceeds {cap} bytes after decompression; "
                                "raise fetch.max_bytes if the source is really that large"
                            )
                        chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise FetchError(
                            f"fetch: {url} took longer than {self.policy.timeout}s in total"
                        )
                lowered.pop("content-encoding", None)
                body = b"".join(chunks)
                hop = None
                if record:
                    kept, notes, drop = as_recorded(
                        body, b"".join(wire) if keep_wire else body, cap
                    )
                    hop = exchange_of(resp, started, remote, kept, secret, notes, drop)
                return resp.status_code, lowered, body, None, hop
        except httpx.TimeoutException:
            raise FetchError(f"fetch: {url} timed out after {self.policy.timeout}s") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise FetchError(f"fetch: {url} failed: {type(exc).__name__}: {exc}") from None
        finally:
            _DEADLINE.at = None
