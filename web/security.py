"""The guard in front of every request: the access token (when one is set), the Host check
against DNS rebinding (when there is none), and the security headers on every response.

Crawled text is hostile, so pages carry a Content-Security-Policy that runs no script at all
(the UI needs none) and loads nothing from anywhere but this server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request, Response
from starlette.exceptions import HTTPException

__all__ = ["COOKIE", "HEADERS", "Guard", "check_post", "form_token", "is_loopback"]

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
COOKIE = "regwatch_csrf"  # the per-browser value the forms' token signs
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


def _sign(request: Request, value: str) -> str:
    secret: bytes = request.app.state.csrf_secret
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def form_token(request: Request, response: Response) -> str:
    """The token for this browser's forms; sets its cookie on ``response`` when it has none."""
    value = request.cookies.get(COOKIE, "")
    if len(value) < 32:
        value = secrets.token_urlsafe(32)
        response.set_cookie(COOKIE, value, httponly=True, samesite="strict", path="/")
    return _sign(request, value)


def check_post(request: Request, token: str) -> None:
    """Refuse (403) a POST that does not come from this UI's own page in this browser."""
    fetch_site = request.headers.get("sec-fetch-site", "")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        raise HTTPException(403, f"feedback refused: a {fetch_site} request, not from this UI")
    origin = request.headers.get("origin", "")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin and origin != "null" and origin != own:
        raise HTTPException(403, f"feedback refused: sent from {origin}, not from {own}")
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or not hmac.compare_digest(_sign(request, cookie), token):
        raise HTTPException(
            403, "feedback refused: the form's token is missing or stale; reload the page"
        )
