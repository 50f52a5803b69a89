"""Alerts: the digest (pure), its rendering, and delivery (channels, the outbox)."""

from regwatch.alerts.digest import Digest, DigestItem, Section, build_digest
from regwatch.alerts.render import render_html, render_text, safe_url

__all__ = [
    "Digest",
    "DigestItem",
    "Section",
    "build_digest",
    "render_html",
    "render_text",
    "safe_url",
]
