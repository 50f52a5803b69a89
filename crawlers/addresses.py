"""Which addresses a request may go to, and how a host's addresses are found.

The fetcher (crawlers/fetch.py) checks a URL's addresses when the URL is checked and again at
connect time; webhook targets (alerts/push.py) pass the same rules.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable

from regwatch.errors import FetchError, UnsafeURLError

__all__ = [
    "CachedResolver",
    "Resolver",
    "check_address",
    "host_addresses",
    "resolve_host",
    "system_resolver",
]

Resolver = Callable[[str], list[str]]


def system_resolver(host: str) -> list[str]:
    """The operating system's addresses for ``host``; FetchError when it cannot resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"fetch: cannot resolve host {host!r} ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class CachedResolver:
    """A resolver's answers kept for ``ttl`` seconds, so a crawl of a hundred articles on one
    host asks DNS once instead of twice per request (the URL check, then the connection).

    It weakens no rule: whatever it returns is checked when the URL is checked and again at
    connect time, and connections go only to those checked addresses. Failures are not kept.
    Thread-safe; the Fetcher's default."""

    def __init__(
        self,
        resolve: Resolver,
        ttl: float = 60.0,
        max_hosts: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self.ttl = ttl
        self.max_hosts = max_hosts
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, tuple[str, ...]]] = {}

    def __call__(self, host: str) -> list[str]:
        key = host.lower()
        now = self._clock()
        with self._lock:
            kept = self._answers.get(key)
        if kept is not None and kept[0] > now:
            return list(kept[1])
        answer = self._resolve(host)  # outside the lock: lookups of other hosts go on
        with self._lock:
            if len(self._answers) >= self.max_hosts:
                self._answers = {h: a for h, a in self._answers.items() if a[0] > now}
                if len(self._answers) >= self.max_hosts:
                    self._answers.clear()
            self._answers[key] = (now + self.ttl, tuple(answer))
        return answer


def check_address(address: str) -> None:
    """Raise UnsafeURLError when ``address`` is not a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    embedded: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
    for candidate in embedded:
        if not candidate.is_global or candidate.is_multicast or candidate.is_reserved:
            raise UnsafeURLError(
                f"fetch: address {address} is not public (loopback/private/link-local/reserved); "
                "set fetch.allow_private_networks = true only for local demos and tests"
            )


def host_addresses(host: str, resolve: Resolver) -> list[str]:
    """``host`` itself when it is an IP literal, else what ``resolve`` answers."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return resolve(host)


def resolve_host(host: str) -> list[str]:
    """The addresses ``host`` stands for (itself when it is an IP literal)."""
    return host_addresses(host, system_resolver)
