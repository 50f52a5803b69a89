"""Which addresses a request may go to, and how a host's addresses are found.

The fetcher (crawlers/fetch.py) checks a URL's addresses when the URL is checked and again at
connect time; webhook targets (alerts/push.py) pass the same rules.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable

from regwatch.errors import FetchError, UnsafeURLError

__all__ = [
    "SENSITIVE",
    "CachedResolver",
    "IPNetwork",
    "Resolver",
    "check_address",
    "host_addresses",
    "parse_networks",
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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Refused even inside an allowed network, unless the allowed network lies within one of these
# itself: link-local (where clouds answer metadata requests) and the cloud metadata addresses
# outside it (AWS IPv6, Alibaba, Oracle's legacy one, Azure's WireServer).
SENSITIVE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",
        "fe80::/10",
        "fd00:ec2::254/128",
        "100.100.100.200/32",
        "192.0.0.192/32",
        "168.63.129.16/32",
    )
)


def parse_networks(networks: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``fetch.allow_networks`` entries as networks; ValueError names a bad entry."""
    out: list[IPNetwork] = []
    for entry in networks:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=True))
        except ValueError as exc:
            raise ValueError(
                f'{entry!r} is not a network in CIDR form like "127.0.0.0/8" or '
                f'"10.20.0.0/16" ({exc})'
            ) from None
    return tuple(out)


def check_address(address: str, allowed: Iterable[IPNetwork] = ()) -> None:
    """Raise UnsafeURLError unless ``address`` is a public unicast address or lies in one of
    the ``allowed`` networks. A link-local or cloud-metadata address (:data:`SENSITIVE`) is
    refused unless an allowed network lies within that range itself: allowing
    ``0.0.0.0/0`` or ``10.0.0.0/8`` never opens 169.254.169.254."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    allowed = tuple(allowed)
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the same address: judged as the IPv4 one
            candidates = [ip.ipv4_mapped]
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip.teredo is not None:
            candidates.extend(ip.teredo)
    for candidate in candidates:
        sensitive = [s for s in SENSITIVE if s.version == candidate.version and candidate in s]
        if sensitive:
            if not any(
                n.version == candidate.version
                and candidate in n
                and any(n.subnet_of(s) for s in sensitive)  # type: ignore[arg-type]
                for n in allowed
            ):
                raise UnsafeURLError(
                    f"fetch: address {address} is link-local or a cloud metadata address; "
                    f"refused unless fetch.allow_networks lists that network itself "
                    f'(e.g. "{candidate}/{candidate.max_prefixlen}")'
                )
            continue
        if any(n.version == candidate.version and candidate in n for n in allowed):
            continue
        if not candidate.is_global or candidate.is_multicast or candidate.is_reserved:
            raise UnsafeURLError(
                f"fetch: address {address} is not public (loopback/private/reserved); "
                "list its network in fetch.allow_networks (CIDR, e.g. "
                '"127.0.0.0/8" for a local demo) if it must be fetched'
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
