"""The settings: frozen dataclasses, one per config.toml section, each field declared once
with its default, the help text config.toml must carry and, for a number, the range it must
fall in (``setting()``/``required()``; the walker enforces every declared range)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Literal

from regwatch.errors import ConfigError

COUNTRIES = ("kz", "kg", "tj", "tm", "uz", "regional")
LANGUAGES = ("en", "ru", "kk", "ky", "tg", "uz")
SourceType = Literal["rss", "html", "sitemap"]
Tier = Literal["official", "news", "analysis"]
Security = Literal["starttls", "ssl", "none"]
GroupBy = Literal["category", "country"]
QuietDay = Literal["note", "skip"]


@dataclass(frozen=True)
class Bounds:
    """The range a number setting must fall in, and how an error message puts it."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the low end itself is refused (> low rather than >= low)
    text: str = ""  # the words after "must be"; empty: "low..high" or ">= low"

    def admits(self, value: float) -> bool:
        """Whether ``value`` is in range; nan never is (every comparison with it fails)."""
        if self.low is not None and not (value > self.low if self.low_open else value >= self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        if self.text:
            return self.text
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        return f"{self.low}..{self.high}"


SCORE = Bounds(0.0, 1.0, text="within 0..1")
PORT = Bounds(1, 65535)


def setting(default: Any, help: str, bounds: Bounds | None = None) -> Any:
    """A config field: its default, the one-line help that config.toml must carry and, for a
    number, its :class:`Bounds`."""
    metadata: dict[str, Any] = {"help": help}
    if bounds is not None:
        metadata["bounds"] = bounds
    if isinstance(default, list | tuple):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata=metadata)
    return field(default=default, metadata=metadata)


def required(help: str) -> Any:
    return field(metadata={"help": help, "required": True})


# Keys that were replaced: the walker names the replacement instead of "unknown key".
RETIRED = {
    "fetch.allow_private_networks": (
        "was replaced by fetch.allow_networks, a list of the networks (CIDR) that may be "
        'fetched although not public; for a local demo: allow_networks = ["127.0.0.0/8"]'
    ),
}


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = setting(
        "sqlite:///regwatch.db",
        "SQLAlchemy URL; a relative SQLite path is relative to this file. "
        "REGWATCH_DATABASE_URL overrides it.",
    )
    password_env: str = setting(
        "", "name of the environment variable holding the database password (never the password)"
    )


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = setting(
        "regwatch/0.1 (+https://github.com/regwatch/regwatch; set a contact address)",
        "User-Agent sent with every request; include a contact address",
    )
    timeout: float = setting(
        20.0, "total deadline per request, in seconds", Bounds(0, low_open=True, text="> 0 seconds")
    )
    max_bytes: int = setting(
        10 * 1024 * 1024,
        "largest body accepted, after decompression",
        Bounds(1024, text="at least 1024"),
    )
    max_redirects: int = setting(5, "redirect hops followed, each re-checked", Bounds(0, 20))
    allow_networks: tuple[str, ...] = setting(
        [],
        'networks (CIDR) fetched although not public, e.g. ["127.0.0.0/8"] for a local demo '
        'or ["10.20.0.0/16"] for an intranet feed; link-local and cloud-metadata addresses '
        "(169.254.0.0/16, fd00:ec2::254, 100.100.100.200, ...) only when that network itself is "
        "listed; every redirect hop and webhook target is checked against it",
    )
    per_host_concurrency: int = setting(
        2, "requests in flight to one host at a time, at most", Bounds(1, 64)
    )
    per_host_delay: float = setting(
        1.0,
        "seconds between the starts of two requests to one host",
        Bounds(0, 600, text="0..600 seconds"),
    )
    max_wait_hours: float = setting(
        24.0,
        "longest a server's Retry-After, Cache-Control max-age or feed TTL, or the exponential "
        "back-off after failures, may postpone a source's next poll",
        Bounds(0, 24 * 30, low_open=True, text="> 0 and at most 720"),
    )


@dataclass(frozen=True)
class NlpConfig:
    rules_dir: str = setting("", "folder of rules *.toml files; empty means the bundled nlp/rules")
    min_score: float = setting(0.3, "signals scoring below this are not stored", SCORE)


@dataclass(frozen=True)
class DigestConfig:
    window_hours: int = setting(
        24, "a digest covers signals detected in this many past hours", Bounds(1)
    )
    min_score: float = setting(0.5, "signals below this score stay out of the digest", SCORE)
    max_items_per_category: int = setting(
        20, "items shown per category, best score first", Bounds(1)
    )
    quiet_days: int = setting(
        7,
        "a source that polls fine but has brought nothing new for this many days is quiet",
        Bounds(1),
    )


@dataclass(frozen=True)
class ServiceConfig:
    dispatch_seconds: int = setting(
        60,
        "how often `regwatch run` queues and sends alerts and digests (seconds)",
        Bounds(1, 3600),
    )
    metrics_port: int = setting(
        0,
        "serve Prometheus metrics on this port; 0 turns them off",
        Bounds(0, 65535, text="0..65535 (0: off)"),
    )
    metrics_host: str = setting("127.0.0.1", "address the metrics endpoint binds to")
    scheduler_tick_seconds: float = setting(
        5.0,
        "how often the leading `regwatch scheduler` enqueues due polls and takes back the "
        "jobs of dead workers (seconds; PostgreSQL only)",
        Bounds(0.2, 300, text="0.2..300 seconds"),
    )
    worker_heartbeat_seconds: float = setting(
        10.0,
        "how often each `regwatch worker` says it is alive (seconds)",
        Bounds(0.2, 300, text="0.2..300 seconds"),
    )
    worker_stalled_seconds: float = setting(
        30.0,
        "a worker silent this long is dead: the scheduler puts its running job back in the "
        "queue (seconds; keep it at least three heartbeats)",
        Bounds(1, 3600, text="1..3600 seconds"),
    )
    keep_jobs_hours: int = setting(
        72,
        "finished jobs are kept this long in the queue's tables, then deleted by maintenance "
        "(failed ones are kept until deleted by hand)",
        Bounds(1, 24 * 365),
    )


@dataclass(frozen=True)
class SmtpConfig:
    host: str = setting("", "SMTP server; empty turns email off (digests can still be previewed)")
    port: int = setting(587, "SMTP port: 587 for starttls, 465 for ssl, 25 for none", PORT)
    security: Security = setting("starttls", "starttls, ssl or none (none only on a local relay)")
    username: str = setting("", "login name; empty sends without logging in")
    password_env: str = setting(
        "", "name of the environment variable holding the SMTP password (never the password)"
    )
    sender: str = setting("regwatch@localhost", "From address of digests and alerts")
    ca_file: str = setting("", "PEM file of CAs to trust (a private relay); empty: system CAs")
    timeout: float = setting(
        30.0,
        "seconds allowed for each step of an SMTP conversation",
        Bounds(0, 600, low_open=True, text="more than 0 and at most 600 seconds"),
    )


@dataclass(frozen=True)
class DeliveryConfig:
    max_attempts: int = setting(8, "tries per message before it is marked failed", Bounds(1, 100))
    retry_seconds: int = setting(
        60,
        "wait before the first retry; it doubles after each failure, up to 6 hours",
        Bounds(1, 86_400, text="1..86400 (a day)"),
    )
    alert_lookback_hours: int = setting(
        24,
        "signals detected this recently can raise an immediate alert (no replay of history)",
        Bounds(1, 24 * 30, text="1..720 (30 days)"),
    )
    alerts_per_hour: int = setting(
        10,
        "immediate alerts per subscription and channel in an hour; the rest of a flood "
        'comes as one "N more strong signals" message (at most one an hour)',
        Bounds(1, 1000),
    )


@dataclass(frozen=True)
class WebConfig:
    host: str = setting(
        "127.0.0.1", "address `regwatch serve` binds; anything but loopback needs a token"
    )
    port: int = setting(8000, "TCP port of the web UI and JSON API", PORT)
    token_env: str = setting(
        "REGWATCH_WEB_TOKEN",
        "name of the environment variable holding the access token (never the token); when "
        "it is set, every request needs it (HTTP Basic password or Authorization: Bearer)",
    )
    page_size: int = setting(
        50, "signals per page in the UI and the API (the API's per_page)", Bounds(1, 500)
    )
    public_url: str = setting(
        "",
        "the address readers reach the web UI at, e.g. https://regwatch.example.org; digests "
        "then link each flagged document to its archived copy there, and digests, stage alerts "
        "and reminders each instrument to its page; empty: no such links",
    )


@dataclass(frozen=True)
class EvidenceConfig:
    enabled: bool = setting(
        True,
        "keep the HTTP exchange(s) each document that raised a signal came from, as WARC",
    )
    dir: str = setting(
        "",
        "folder of the captures (.warc.gz named by SHA-256), relative to this file; empty: "
        "'evidence' beside the SQLite database (or beside this file for PostgreSQL)",
    )
    retention_days: int = setting(
        0,
        "captures older than this are deleted by the daily maintenance, except each "
        "document's newest while it has signals; 0 keeps them all",
        Bounds(0, 36_500, text="0..36500 days (0: keep all)"),
    )


@dataclass(frozen=True)
class SubscriptionConfig:
    name: str = required("unique short name: lowercase letters, digits, - and _")
    recipients: tuple[str, ...] = setting([], "email addresses the digest and alerts go to")
    categories: tuple[str, ...] = setting([], "signal categories to include; empty means all")
    countries: tuple[str, ...] = setting(
        [], "countries (kz kg tj tm uz regional), by source or mention; empty means all"
    )
    tiers: tuple[str, ...] = setting([], "source tiers: official news analysis; empty means all")
    languages: tuple[str, ...] = setting([], "languages: en ru kk ky tg uz; empty means all")
    text: str = setting(
        "", 'a saved search, as query --text: words, "phrases", AND OR NOT ( ); empty means all'
    )
    min_score: float = setting(0.5, "signals scoring below this stay out of this digest", SCORE)
    group_by: GroupBy = setting("category", "digest sections by category or by country")
    digest_time: time = setting(time(8, 0), "local time the daily digest goes out, HH:MM")
    timezone: str = setting("Asia/Dushanbe", "IANA time zone of digest_time")
    quiet_day: QuietDay = setting("note", "a day without signals: send a short note, or skip")
    immediate_alerts: bool = setting(True, "push strong signals at once, not only in the digest")
    alert_threshold: float = setting(
        0.85, "signals scoring at least this are pushed at once", SCORE
    )
    alert_email: bool = setting(True, "send immediate alerts to the recipients by email")
    stage_alerts: bool = setting(
        True,
        "push an instrument's stage changes and consultation reminders at once (instruments "
        "match by categories, as themes, and countries; tiers, languages and text do not apply)",
    )
    reminder_days: int = setting(
        3,
        "a consultation reminder goes out this many days before the consultation closes "
        "(0: no reminders)",
        Bounds(0, 60, text="0..60 days (0: no reminders)"),
    )
    webhooks: tuple[str, ...] = setting(
        [], "Apprise URLs without secrets for immediate alerts, e.g. json://hooks.example.org/rw"
    )
    webhook_env: tuple[str, ...] = setting(
        [], "environment variables each holding an Apprise URL with a token (Slack, Teams, ...)"
    )


@dataclass(frozen=True)
class SourceConfig:
    name: str = required("unique short name: lowercase letters, digits, - and _")
    url: str = required("feed URL (rss) or listing page URL (html)")
    type: SourceType = setting(
        "rss", "rss (RSS/Atom/RDF/JSON Feed), html (listing page) or sitemap (incl. news sitemaps)"
    )
    country: str = setting("regional", "kz, kg, tj, tm, uz or regional")
    languages: tuple[str, ...] = setting(["ru"], "languages published: en ru kk ky tg uz")
    tier: Tier = setting("news", "official, news or analysis")
    interval_minutes: int = setting(60, "how often the source is polled", Bounds(1))
    enabled: bool = setting(True, "false keeps the source configured but unpolled")
    link_selector: str = setting("", "html: CSS selector of article links on the listing page")
    title_selector: str = setting(
        "", "html: CSS selector of the article title; empty: found automatically"
    )
    text_selector: str = setting(
        "", "html: CSS selector of the article body; empty: main text found automatically"
    )
    date_selector: str = setting(
        "", "html: CSS selector of an element with the date; empty: found automatically"
    )
    max_articles: int = setting(
        100, "html/sitemap: article pages fetched per poll, at most", Bounds(1, 10_000)
    )
    next_selector: str = setting("", "html: CSS selector of the listing's next-page link")
    max_pages: int = setting(
        1, "html: listing pages followed through next_selector, at most", Bounds(1, 50)
    )
    allow: tuple[str, ...] = setting(
        [], "html/sitemap: article URLs must match one of these regexes"
    )
    deny: tuple[str, ...] = setting(
        [], "html/sitemap: article URLs matching any of these are skipped"
    )
    revisit_days: int = setting(
        7,
        "html/sitemap: a stored article is fetched again after this many days (0: every poll)",
        Bounds(0),
    )
    recent_days: int = setting(
        7, "sitemap: only entries dated within this many days (undated kept)", Bounds(1)
    )
    spider: str = setting("", "html/sitemap: a site spider in crawlers/spiders/; empty: generic")
    robots: bool = setting(
        True, "html/sitemap: obey robots.txt; false only with the owner's consent"
    )
    user_agent: str = setting("", "this source's User-Agent; empty: fetch.user_agent")
    auth_env: str = setting(
        "",
        "name of the environment variable holding user:password for HTTP Basic on this "
        "source's host (never the secret itself)",
    )
    headers_env: str = setting(
        "",
        "name of the environment variable holding one header sent to this source's host, "
        "e.g. 'Authorization: Bearer ...' (never the secret itself)",
    )


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    nlp: NlpConfig = field(default_factory=NlpConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    web: WebConfig = field(default_factory=WebConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    sources: tuple[SourceConfig, ...] = ()
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"config: no source named {name!r} (known: {known})")

    def subscription(self, name: str) -> SubscriptionConfig:
        for sub in self.subscriptions:
            if sub.name == name:
                return sub
        known = ", ".join(s.name for s in self.subscriptions) or "none"
        raise ConfigError(f"config: no subscription named {name!r} (known: {known})")
