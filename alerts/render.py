"""Render a Digest as HTML and plain text with Jinja2.

The HTML environment autoescapes every template whatever its file name (crawled titles and
sentences are hostile input); links are shown only when they are http(s). The templates' CSS
is inlined into ``style`` attributes by css-inline (Outlook desktop and several webmail
clients drop ``<head>`` styles); nothing remote is ever loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from regwatch.alerts.digest import Digest, Evidence
from regwatch.alerts.flood import Bundle
from regwatch.alerts.instrument_news import Reminder, StageAlert
from regwatch.store.queries import SignalRow

__all__ = [
    "Alert",
    "inline_css",
    "render_alert",
    "render_bundle",
    "render_html",
    "render_reminder",
    "render_stage",
    "render_text",
    "safe_url",
]

TEMPLATES = Path(__file__).parent / "templates"


def safe_url(url: str) -> str:
    """The URL if it is http(s) with a host, else an empty string (no javascript: links)."""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=autoescape,  # noqa: S701 - the text part is plain text, never HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    return env


_HTML = _env(autoescape=True)
_TEXT = _env(autoescape=False)
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=False)


def inline_css(html: str) -> str:
    """``html`` with its ``<style>`` rules moved into each element's ``style`` attribute."""
    inlined: str = _INLINER.inline(html)
    return inlined


def render_html(digest: Digest) -> str:
    return inline_css(_HTML.get_template("digest.html.j2").render(d=digest))


def render_text(digest: Digest) -> str:
    return _TEXT.get_template("digest.txt.j2").render(d=digest)


@dataclass(frozen=True)
class Alert:
    """One strong signal, as an immediate alert shows it."""

    subscription: str
    threshold: float
    section: str
    title: str
    url: str
    score: float
    source: str
    tier: str
    country: str
    published_at: datetime | None
    evidence: Evidence

    @classmethod
    def of(cls, row: SignalRow, subscription: str, threshold: float) -> Alert:
        from regwatch.nlp.rules import category_titles

        return cls(
            subscription=subscription,
            threshold=threshold,
            section=category_titles().get(row.category, row.category),
            title=row.title,
            url=row.url,
            score=row.score,
            source=row.source,
            tier=row.tier,
            country=row.country,
            published_at=row.published_at,
            evidence=Evidence.of(row),
        )

    @property
    def subject(self) -> str:
        return f"[regwatch] {self.section}: {self.title or '(untitled)'}"


def render_bundle(bundle: Bundle) -> tuple[str, str]:
    """The (text, html) of a flood's bundled message."""
    return (
        _TEXT.get_template("bundle.txt.j2").render(b=bundle),
        inline_css(_HTML.get_template("bundle.html.j2").render(b=bundle)),
    )


def render_alert(alert: Alert) -> tuple[str, str]:
    """The alert's (text, html)."""
    return (
        _TEXT.get_template("alert.txt.j2").render(a=alert),
        inline_css(_HTML.get_template("alert.html.j2").render(a=alert)),
    )


def render_stage(alert: StageAlert) -> tuple[str, str]:
    """A stage change's (text, html)."""
    return (
        _TEXT.get_template("stage.txt.j2").render(a=alert),
        inline_css(_HTML.get_template("stage.html.j2").render(a=alert)),
    )


def render_reminder(reminder: Reminder) -> tuple[str, str]:
    """A consultation reminder's (text, html)."""
    return (
        _TEXT.get_template("reminder.txt.j2").render(a=reminder),
        inline_css(_HTML.get_template("reminder.html.j2").render(a=reminder)),
    )
