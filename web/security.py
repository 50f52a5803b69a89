"""The guard in front of every request: the access token (when one is set), the Host check
against DNS rebinding (when there is none), and the security headers on every response.

Crawled text is hostile, so pages carry a Content-Security-Policy that runs no script at all
(the UI needs none) and loads nothing from anywhere but this server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["HEADERS", "Guard", "is_loopback"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def is_loopback(host: str) -> bool:
    """``host`` (a name or an address to bind) reaches only this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def token_matches(header: str, token: str) -> bool:
    """``Authorization: Bearer <token>`` or HTTP Basic with the token as the password (any
    user name); compared in constant time."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        value = decoded.partition(":")[2]
    elif scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.encode("utf-8"), token.encode("utf-8"))


class Guard:
    """ASGI middleware: refuses requests without the token (401) and, without a token, any
    Host header that is not a loopback name (421); adds :data:`HEADERS` to every response."""

    def __init__(self, app: ASGIApp, token: str = "") -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token:
            if not token_matches(headers.get("authorization", ""), self.token):
                await _refuse(send, 401, "a token is needed: HTTP Basic password or Bearer")
                return
        elif _host_name(headers.get("host", "")) not in LOOPBACK_NAMES:
            await _refuse(send, 421, "this server answers only to 127.0.0.1 and localhost")
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                raw += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


_NAMES = {k.encode() for k in HEADERS}


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *[(k.encode(), v.encode()) for k, v in HEADERS.items()],
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Basic realm="regwatch", charset="UTF-8"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
