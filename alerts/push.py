"""Push alerts to webhooks through Apprise (generic JSON, Slack, Teams, Telegram, …).

A webhook target passes the crawler's URL-safety rules before anything is sent: only the
Apprise services listed here, a target host of our own choosing must resolve to public
addresses or lie in ``fetch.allow_networks`` (the fetcher's rules, crawlers/addresses.py),
and redirects are not followed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from regwatch.crawlers.addresses import check_address, parse_networks, resolve_host
from regwatch.errors import DeliveryError, FetchError

__all__ = ["Webhook", "check_syntax", "check_webhook", "env_label", "push"]

# Services whose host is the one in the URL: that host is checked like a crawled URL.
HOSTED = {
    "json", "jsons", "form", "forms", "xml", "xmls", "ntfy", "ntfys", "gotify", "gotifys",
    "mmost", "mmosts", "rocket", "rockets", "matrix", "matrixs", "apprise", "apprises",
    "signal", "signals", "http", "https",
}  # fmt: skip
# Services that always talk to their vendor's public API (the URL holds tokens, not a host).
VENDOR = {"slack", "msteams", "tgram", "discord", "pover", "pbul", "gchat"}


@dataclass(frozen=True)
class Webhook:
    """A push target. ``label`` is stable and secret-free: it names the channel in the outbox."""

    label: str
    url: str
    shown: str  # what logs and `alerts list` may show

    @classmethod
    def of_url(cls, url: str) -> Webhook:
        """A webhook written in config.toml (``webhooks``)."""
        return cls(_label(f"url:{url}"), url, _shown(url))

    @classmethod
    def of_env(cls, name: str, url: str) -> Webhook:
        """A webhook held in the environment variable ``name`` (``webhook_env``), whose value
        the caller read: ``url`` is never shown."""
        return cls(env_label(name), url, f"${name}")


def env_label(name: str) -> str:
    """The label of the webhook held in the environment variable ``name``."""
    return _label(f"env:{name}")


def _label(key: str) -> str:
    return "webhook-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def _shown(url: str) -> str:
    """A webhook URL for messages: scheme and host for a host of our own, the scheme alone for
    a vendor's (its "host" is a token); never the path or the query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "(an unreadable URL)"
    scheme = parts.scheme.lower()
    return f"{scheme}://{host}" if scheme in HOSTED else f"{scheme}://…"


def check_syntax(url: str, shown: str | None = None) -> object:
    """The Apprise plugin for ``url`` when the service is supported and the URL well formed;
    else DeliveryError (naming the URL as ``shown``: never its secret parts)."""
    import apprise

    shown = shown or _shown(url)
    try:
        scheme = urlsplit(url).scheme.lower()
        _ = urlsplit(url).port
    except ValueError as exc:
        raise DeliveryError(f"push: {shown!r} is not a valid URL ({exc})") from None
    if scheme not in HOSTED | VENDOR:
        raise DeliveryError(
            f"push: {shown!r}: scheme {scheme!r} is not a supported webhook; use one of "
            f"{', '.join(sorted(HOSTED | VENDOR))}"
        )
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        raise DeliveryError(
            f"push: {shown!r} is not a valid Apprise URL; see the Apprise wiki for the "
            "form each service takes"
        )
    return plugin


def check_webhook(url: str, allow_networks: tuple[str, ...], shown: str | None = None) -> object:
    """The Apprise plugin for ``url`` once it passes the safety rules; else DeliveryError."""
    shown = shown or _shown(url)
    plugin = check_syntax(url, shown)
    plugin.redirects = False  # type: ignore[attr-defined] # a redirect could lead anywhere
    if urlsplit(url).scheme.lower() in HOSTED:
        host = str(getattr(plugin, "host", "") or "")
        try:
            allowed = parse_networks(allow_networks)
            for address in resolve_host(host):
                check_address(address, allowed)
        except (FetchError, ValueError) as exc:
            reason = str(exc).replace(host, "the webhook host") if host else str(exc)
            raise DeliveryError(f"push: {shown!r}: {reason}") from None
    return plugin


def push(
    hook: Webhook, title: str, body: str, *, allow_networks: tuple[str, ...], timeout: float
) -> None:
    """Send one notification; raise DeliveryError with Apprise's reason when it fails."""
    import apprise

    plugin = check_webhook(hook.url, allow_networks, hook.shown)
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, timeout)
    sender = apprise.Apprise()
    sender.add(plugin)  # type: ignore[arg-type]
    with apprise.LogCapture(level=logging.WARNING) as logs:  # type: ignore[no-untyped-call]
        ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if not ok:
        reason = " ".join(
            line.split(" - ", 2)[-1].strip() for line in logs.getvalue().splitlines() if line
        )
        raise DeliveryError(f"push: {hook.shown}: {reason or 'the service did not accept it'}")
