"""The one HTTP client every outbound request goes through.

Rules applied to every request and every redirect hop: only http/https; the host's addresses
are resolved and loopback, private, link-local, reserved and multicast ones refused unless
``allow_private_networks``; a total deadline; a body cap counted *after* decompression; a
redirect limit. The transport is swappable (``httpx.MockTransport`` in tests).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from errors import FetchError, UnsafeURLError

__all__ = ["FetchPolicy", "Fetcher", "Response", "check_address"]

Resolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = "regwatch/0.1"
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private_networks: bool = False


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

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


def _system_resolver(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"fetch: cannot resolve host {host!r} ({exc.strerror})") from None
    return sorted({str(info[4][0]) for info in infos})


def check_address(address: str) -> None:
    """Raise UnsafeURLError when ``address`` is not a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    ):
        raise UnsafeURLError(
            f"fetch: address {address} is not public (loopback/private/link-local/reserved); "
            "set fetch.allow_private_networks = true only for local demos and tests"
        )


class Fetcher:
    """A small, strict HTTP GET client. Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._resolve = resolver or _system_resolver
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout),
            headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise UnsafeURLError(f"fetch: {url!r} is not http or https; only web URLs are fetched")
        if not parts.hostname:
            raise UnsafeURLError(f"fetch: {url!r} has no host")
        if self.policy.allow_private_networks:
            return
        host = parts.hostname
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            addresses = self._resolve(host)
        for address in addresses:
            try:
                check_address(address)
            except UnsafeURLError as exc:
                raise UnsafeURLError(f"fetch: {url} resolves to {address}: {exc}") from None

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """GET ``url`` under the policy; raise FetchError on any failure or non-2xx status."""
        deadline = time.monotonic() + self.policy.timeout
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            self.check_url(current)
            status, resp_headers, body, location = self._once(current, headers or {}, deadline)
            if location is None:
                if not 200 <= status < 300:
                    raise FetchError(f"fetch: {current} answered HTTP {status}", status=status)
                return Response(url=current, status=status, headers=resp_headers, body=body)
            current = urljoin(current, location)
        raise FetchError(
            f"fetch: {url} redirected more than {self.policy.max_redirects} times; "
            "check the source URL or raise fetch.max_redirects"
        )

    def _once(
        self, url: str, headers: dict[str, str], deadline: float
    ) -> tuple[int, dict[str, str], bytes, str | None]:
        cap = self.policy.max_bytes
        try:
            with self._client.stream("GET", url, headers=headers) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    return resp.status_code, {}, b"", resp.headers["location"]
                length = resp.headers.get("content-length", "")
                if length.isdigit() and int(length) > cap:
                    raise FetchError(f"fetch: {url} is {length} bytes, over the {cap}-byte cap")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise FetchError(
                            f"fetch: {url} body exceeds {cap} bytes after decompression; "
                            "raise fetch.max_bytes if the source is really that large"
                        )
                    if time.monotonic() > deadline:
                        raise FetchError(
                            f"fetch: {url} took longer than {self.policy.timeout}s in total"
                        )
                    chunks.append(chunk)
                lowered = {k.lower(): v for k, v in resp.headers.items()}
                return resp.status_code, lowered, b"".join(chunks), None
        except httpx.TimeoutException:
            raise FetchError(f"fetch: {url} timed out after {self.policy.timeout}s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"fetch: {url} failed: {type(exc).__name__}: {exc}") from None
