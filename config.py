"""Load and validate config.toml once, into frozen, typed objects.

Every setting is a dataclass field with a default and a ``help`` text; the loader walks the
TOML tables against those fields, so an unknown key, a wrong type or a missing value stops
with a :class:`ConfigError` naming the file, the key and the fix. Only this module, ``cli.py``
and ``scheduler.py`` see the whole configuration; components get plain values.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import shutil
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from errors import ConfigError

__all__ = [
    "COUNTRIES",
    "LANGUAGES",
    "DatabaseConfig",
    "DeliveryConfig",
    "DigestConfig",
    "FetchConfig",
    "NlpConfig",
    "ServiceConfig",
    "Settings",
    "SmtpConfig",
    "SourceConfig",
    "SubscriptionConfig",
    "WebConfig",
    "add_source",
    "default_config_path",
    "load",
    "load_sources",
    "remove_source",
    "set_source_enabled",
]

COUNTRIES = ("kz", "kg", "tj", "tm", "uz", "regional")
LANGUAGES = ("en", "ru", "kk", "ky", "tg", "uz")
SourceType = Literal["rss", "html", "sitemap"]
Tier = Literal["official", "news", "analysis"]
Security = Literal["starttls", "ssl", "none"]
GroupBy = Literal["category", "country"]
QuietDay = Literal["note", "skip"]

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_ENV_RE = re.compile(r"[A-Z_][A-Z0-9_]*")
_ADDRESS_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
)


def setting(default: Any, help: str) -> Any:
    """A config field: its default and the one-line help that config.toml must carry."""
    if isinstance(default, list | tuple):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata={"help": help})
    return field(default=default, metadata={"help": help})


def required(help: str) -> Any:
    return field(metadata={"help": help, "required": True})


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
    timeout: float = setting(20.0, "total deadline per request, in seconds")
    max_bytes: int = setting(10 * 1024 * 1024, "largest body accepted, after decompression")
    max_redirects: int = setting(5, "redirect hops followed, each re-checked")
    allow_private_networks: bool = setting(
        False, "allow loopback/private addresses (only for demos and tests)"
    )
    per_host_concurrency: int = setting(2, "requests in flight to one host at a time, at most")
    per_host_delay: float = setting(1.0, "seconds between the starts of two requests to one host")
    max_wait_hours: float = setting(
        24.0,
        "longest a server's Retry-After, Cache-Control max-age or feed TTL, or the exponential "
        "back-off after failures, may postpone a source's next poll",
    )


@dataclass(frozen=True)
class NlpConfig:
    rules_dir: str = setting("", "folder of rules *.toml files; empty means the bundled nlp/rules")
    min_score: float = setting(0.3, "signals scoring below this are not stored")


@dataclass(frozen=True)
class DigestConfig:
    window_hours: int = setting(24, "a digest covers signals detected in this many past hours")
    min_score: float = setting(0.5, "signals below this score stay out of the digest")
    max_items_per_category: int = setting(20, "items shown per category, best score first")
    quiet_days: int = setting(
        7, "a source that polls fine but has brought nothing new for this many days is quiet"
    )


@dataclass(frozen=True)
class ServiceConfig:
    dispatch_seconds: int = setting(
        60, "how often `regwatch run` queues and sends alerts and digests (seconds)"
    )
    metrics_port: int = setting(0, "serve Prometheus metrics on this port; 0 turns them off")
    metrics_host: str = setting("127.0.0.1", "address the metrics endpoint binds to")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = setting("", "SMTP server; empty turns email off (digests can still be previewed)")
    port: int = setting(587, "SMTP port: 587 for starttls, 465 for ssl, 25 for none")
    security: Security = setting("starttls", "starttls, ssl or none (none only on a local relay)")
    username: str = setting("", "login name; empty sends without logging in")
    password_env: str = setting(
        "", "name of the environment variable holding the SMTP password (never the password)"
    )
    sender: str = setting("regwatch@localhost", "From address of digests and alerts")
    ca_file: str = setting("", "PEM file of CAs to trust (a private relay); empty: system CAs")
    timeout: float = setting(30.0, "seconds allowed for each step of an SMTP conversation")


@dataclass(frozen=True)
class DeliveryConfig:
    max_attempts: int = setting(8, "tries per message before it is marked failed")
    retry_seconds: int = setting(
        60, "wait before the first retry; it doubles after each failure, up to 6 hours"
    )
    alert_lookback_hours: int = setting(
        24, "signals detected this recently can raise an immediate alert (no replay of history)"
    )


@dataclass(frozen=True)
class WebConfig:
    host: str = setting(
        "127.0.0.1", "address `regwatch serve` binds; anything but loopback needs a token"
    )
    port: int = setting(8000, "TCP port of the web UI and JSON API")
    token_env: str = setting(
        "REGWATCH_WEB_TOKEN",
        "name of the environment variable holding the access token (never the token); when "
        "it is set, every request needs it (HTTP Basic password or Authorization: Bearer)",
    )
    page_size: int = setting(50, "signals per page in the UI and the API (the API's per_page)")


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
    min_score: float = setting(0.5, "signals scoring below this stay out of this digest")
    group_by: GroupBy = setting("category", "digest sections by category or by country")
    digest_time: str = setting("08:00", "local time the daily digest goes out, HH:MM")
    timezone: str = setting("Asia/Dushanbe", "IANA time zone of digest_time")
    quiet_day: QuietDay = setting("note", "a day without signals: send a short note, or skip")
    immediate_alerts: bool = setting(True, "push strong signals at once, not only in the digest")
    alert_threshold: float = setting(0.85, "signals scoring at least this are pushed at once")
    alert_email: bool = setting(True, "send immediate alerts to the recipients by email")
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
    interval_minutes: int = setting(60, "how often the source is polled")
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
    max_articles: int = setting(100, "html/sitemap: article pages fetched per poll, at most")
    next_selector: str = setting("", "html: CSS selector of the listing's next-page link")
    max_pages: int = setting(1, "html: listing pages followed through next_selector, at most")
    allow: tuple[str, ...] = setting(
        [], "html/sitemap: article URLs must match one of these regexes"
    )
    deny: tuple[str, ...] = setting(
        [], "html/sitemap: article URLs matching any of these are skipped"
    )
    revisit_days: int = setting(
        7, "html/sitemap: a stored article is fetched again after this many days (0: every poll)"
    )
    recent_days: int = setting(
        7, "sitemap: only entries dated within this many days (undated kept)"
    )
    spider: str = setting("", "html/sitemap: a site spider in crawlers/spiders/; empty: generic")
    robots: bool = setting(
        True, "html/sitemap: obey robots.txt; false only with the owner's consent"
    )
    user_agent: str = setting("", "this source's User-Agent; empty: fetch.user_agent")


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


# --------------------------------------------------------------------------- loading


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("REGWATCH_CONFIG") or "config.toml")


def load(path: Path | str, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` and return validated :class:`Settings`, or raise ConfigError."""
    path = Path(path)
    env = os.environ if env is None else env
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; pass --config PATH, set REGWATCH_CONFIG, "
            "or copy config.toml from the regwatch repository"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax there") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    settings = _build(Settings, {k: v for k, v in raw.items()}, str(path), "", exclude={"path"})
    settings = dataclasses.replace(settings, path=path)
    return _finish(settings, path, env)


def load_sources(path: Path | str, base_url: str = "") -> tuple[SourceConfig, ...]:
    """Read a file holding only ``[[sources]]`` blocks (the demo's), prefixing ``base_url``."""
    path = Path(path)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    built = _build(Settings, {"sources": raw.get("sources", [])}, str(path), "", exclude={"path"})
    sources = tuple(dataclasses.replace(s, url=base_url + s.url) for s in built.sources)
    _check_sources(sources, str(path))
    return sources


def _finish(settings: Settings, path: Path, env: Mapping[str, str]) -> Settings:
    where = str(path)
    db = settings.database
    url = env.get("REGWATCH_DATABASE_URL") or db.url
    url = _resolve_database_url(url, db.password_env, path.parent, env, where)
    settings = dataclasses.replace(settings, database=dataclasses.replace(db, url=url))
    fetch = settings.fetch
    if fetch.timeout <= 0:
        raise ConfigError(f"{where}: fetch.timeout must be > 0 seconds, got {fetch.timeout}")
    if fetch.max_bytes < 1024:
        raise ConfigError(f"{where}: fetch.max_bytes must be at least 1024, got {fetch.max_bytes}")
    if not 0 <= fetch.max_redirects <= 20:
        raise ConfigError(f"{where}: fetch.max_redirects must be 0..20, got {fetch.max_redirects}")
    if not 1 <= fetch.per_host_concurrency <= 64:
        raise ConfigError(
            f"{where}: fetch.per_host_concurrency must be 1..64, got {fetch.per_host_concurrency}"
        )
    if not 0 <= fetch.per_host_delay <= 600:
        raise ConfigError(
            f"{where}: fetch.per_host_delay must be 0..600 seconds, got {fetch.per_host_delay}"
        )
    if not 0 < fetch.max_wait_hours <= 24 * 30:
        raise ConfigError(
            f"{where}: fetch.max_wait_hours must be > 0 and at most 720, got {fetch.max_wait_hours}"
        )
    if not 0.0 <= settings.nlp.min_score <= 1.0:
        raise ConfigError(f"{where}: nlp.min_score must be within 0..1")
    if not 0.0 <= settings.digest.min_score <= 1.0:
        raise ConfigError(f"{where}: digest.min_score must be within 0..1")
    if settings.digest.window_hours < 1 or settings.digest.max_items_per_category < 1:
        raise ConfigError(f"{where}: digest.window_hours and max_items_per_category must be >= 1")
    if settings.digest.quiet_days < 1:
        raise ConfigError(f"{where}: digest.quiet_days must be >= 1")
    _check_sources(settings.sources, where)
    _check_smtp(settings.smtp, where, env)
    _check_delivery(settings.delivery, where)
    svc = settings.service
    if not 1 <= svc.dispatch_seconds <= 3600:
        raise ConfigError(f"{where}: service.dispatch_seconds must be 1..3600")
    if not 0 <= svc.metrics_port <= 65535:
        raise ConfigError(f"{where}: service.metrics_port must be 0..65535 (0: off)")
    _check_web(settings.web, where)
    _check_subscriptions(settings, where, env)
    return settings


def _resolve_database_url(
    url: str, password_env: str, base: Path, env: Mapping[str, str], where: str
) -> str:
    parts = urlsplit(url)
    if not parts.scheme:
        raise ConfigError(
            f"{where}: database.url {url!r} is not a URL; "
            "use sqlite:///regwatch.db or postgresql+psycopg://user@host/db"
        )
    if parts.password:
        raise ConfigError(
            f"{where}: database.url carries a password; remove it and name an environment "
            "variable in database.password_env instead (secrets never go in config.toml)"
        )
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            url = "sqlite:///" + str((base / rel).resolve())
    if password_env:
        if not _ENV_RE.fullmatch(password_env):
            raise ConfigError(
                f"{where}: database.password_env must be an environment variable name "
                f"like REGWATCH_DB_PASSWORD, got {password_env!r}"
            )
        secret = env.get(password_env)
        if secret is None:
            raise ConfigError(
                f"{where}: database.password_env names {password_env}, which is not set; "
                f"export {password_env}=… before starting regwatch"
            )
        from sqlalchemy.engine import make_url

        url = make_url(url).set(password=secret).render_as_string(hide_password=False)
    return url


def _check_sources(sources: tuple[SourceConfig, ...], where: str) -> None:
    seen: set[str] = set()
    for i, src in enumerate(sources):
        key = f"sources[{i}] ({src.name})"
        if not _NAME_RE.fullmatch(src.name):
            raise ConfigError(
                f"{where}: {key}.name must be lowercase letters, digits, - or _ "
                f"(e.g. 'kz-maidd'), got {src.name!r}"
            )
        if src.name in seen:
            raise ConfigError(f"{where}: {key}.name is used twice; give each source its own name")
        seen.add(src.name)
        try:
            parts = urlsplit(src.url)
            _ = parts.port  # raises on a port out of range
        except ValueError as exc:
            raise ConfigError(
                f"{where}: {key}.url {src.url!r} is not a valid URL ({exc})"
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{where}: {key}.url must start with http:// or https:// and name a host"
            )
        if src.country not in COUNTRIES:
            raise ConfigError(
                f"{where}: {key}.country must be one of {', '.join(COUNTRIES)}, got {src.country!r}"
            )
        bad = [lang for lang in src.languages if lang not in LANGUAGES]
        if bad or not src.languages:
            raise ConfigError(
                f"{where}: {key}.languages must list codes from {', '.join(LANGUAGES)}, got {bad}"
            )
        if src.interval_minutes < 1:
            raise ConfigError(f"{where}: {key}.interval_minutes must be >= 1")
        for pattern in (*src.allow, *src.deny):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"{where}: {key}: {pattern!r} in allow/deny is not a valid regex ({exc})"
                ) from None
        if not 1 <= src.max_pages <= 50:
            raise ConfigError(f"{where}: {key}.max_pages must be 1..50, got {src.max_pages}")
        if not 1 <= src.max_articles <= 10_000:
            raise ConfigError(f"{where}: {key}.max_articles must be 1..10000")
        if src.revisit_days < 0:
            raise ConfigError(f"{where}: {key}.revisit_days must be >= 0")
        if src.recent_days < 1:
            raise ConfigError(f"{where}: {key}.recent_days must be >= 1")
        if src.type == "html" and not src.link_selector:
            raise ConfigError(
                f'{where}: {key} is type "html" but has no link_selector; add the CSS selector '
                'of the article links on its listing page, e.g. link_selector = "a.news-link"'
            )


def _check_smtp(smtp: SmtpConfig, where: str, env: Mapping[str, str]) -> None:
    if not 0 < smtp.port < 65536:
        raise ConfigError(f"{where}: smtp.port must be 1..65535, got {smtp.port}")
    if not 0 < smtp.timeout <= 600:  # also refuses nan and inf
        raise ConfigError(f"{where}: smtp.timeout must be more than 0 and at most 600 seconds")
    if not _is_address(smtp.sender):
        raise ConfigError(
            f"{where}: smtp.sender must be one ASCII email address like regwatch@example.org "
            f"(an internationalised domain in its xn-- form), got {smtp.sender!r}"
        )
    if smtp.password_env and not _ENV_RE.fullmatch(smtp.password_env):
        raise ConfigError(
            f"{where}: smtp.password_env must be an environment variable name like "
            f"REGWATCH_SMTP_PASSWORD, got {smtp.password_env!r}"
        )
    if smtp.ca_file and not Path(smtp.ca_file).is_file():
        raise ConfigError(f"{where}: smtp.ca_file {smtp.ca_file!r} is not a file")


def _check_delivery(delivery: DeliveryConfig, where: str) -> None:
    if not 1 <= delivery.max_attempts <= 100:
        raise ConfigError(f"{where}: delivery.max_attempts must be 1..100")
    if not 1 <= delivery.retry_seconds <= 86_400:
        raise ConfigError(f"{where}: delivery.retry_seconds must be 1..86400 (a day)")
    if not 1 <= delivery.alert_lookback_hours <= 24 * 30:
        raise ConfigError(f"{where}: delivery.alert_lookback_hours must be 1..720 (30 days)")


def _check_web(web: WebConfig, where: str) -> None:
    if not web.host.strip():
        raise ConfigError(f"{where}: web.host is empty; use 127.0.0.1 (this machine only)")
    if not 0 < web.port < 65536:
        raise ConfigError(f"{where}: web.port must be 1..65535, got {web.port}")
    if not _ENV_RE.fullmatch(web.token_env):
        raise ConfigError(
            f"{where}: web.token_env must be an environment variable name like "
            f"REGWATCH_WEB_TOKEN, got {web.token_env!r}"
        )
    if not 1 <= web.page_size <= 500:
        raise ConfigError(f"{where}: web.page_size must be 1..500, got {web.page_size}")


def _check_subscriptions(settings: Settings, where: str, env: Mapping[str, str]) -> None:
    seen: set[str] = set()
    categories: set[str] | None = None
    for i, sub in enumerate(settings.subscriptions):
        key = f"subscriptions[{i}] ({sub.name})"
        if not _NAME_RE.fullmatch(sub.name):
            raise ConfigError(
                f"{where}: {key}.name must be lowercase letters, digits, - or _ "
                f"(e.g. 'gr-team'), got {sub.name!r}"
            )
        if sub.name in seen:
            raise ConfigError(f"{where}: {key}.name is used twice; give each one its own name")
        seen.add(sub.name)
        bad = [r for r in sub.recipients if not _is_address(r)]
        if bad:
            raise ConfigError(
                f"{where}: {key}.recipients: {bad[0]!r} is not one ASCII email address "
                "like analyst@example.org (an internationalised domain in its xn-- form)"
            )
        if sub.recipients and not settings.smtp.host:
            raise ConfigError(
                f"{where}: {key} has recipients but smtp.host is empty; set [smtp] host "
                "(and port, security, username, password_env)"
            )
        if not sub.recipients and not sub.webhooks and not sub.webhook_env:
            raise ConfigError(f"{where}: {key} has nowhere to deliver; add recipients or webhooks")
        for field_name, allowed in (
            ("countries", COUNTRIES),
            ("languages", LANGUAGES),
            ("tiers", get_args(Tier)),
        ):
            wrong = [v for v in getattr(sub, field_name) if v not in allowed]
            if wrong:
                raise ConfigError(
                    f"{where}: {key}.{field_name}: {wrong[0]!r} is not one of {', '.join(allowed)}"
                )
        if sub.categories:
            if categories is None:
                from nlp.rules import load_rules

                categories = set(load_rules(settings.nlp.rules_dir or None).categories)
            wrong = [c for c in sub.categories if c not in categories]
            if wrong:
                near = difflib.get_close_matches(wrong[0], sorted(categories), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ConfigError(
                    f"{where}: {key}.categories: no rules define {wrong[0]!r}{hint} "
                    f"(known: {', '.join(sorted(categories))})"
                )
        for name in ("min_score", "alert_threshold"):
            if not 0.0 <= getattr(sub, name) <= 1.0:
                raise ConfigError(f"{where}: {key}.{name} must be within 0..1")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", sub.digest_time):
            raise ConfigError(
                f"{where}: {key}.digest_time must be HH:MM on a 24-hour clock, "
                f"got {sub.digest_time!r}"
            )
        try:
            ZoneInfo(sub.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}: {key}.timezone {sub.timezone!r} is not an IANA time zone "
                "like Asia/Dushanbe or Asia/Almaty"
            ) from None
        for url in sub.webhooks:
            _check_webhook(url, f"{where}: {key}.webhooks")
        for var in sub.webhook_env:
            if not _ENV_RE.fullmatch(var):
                raise ConfigError(
                    f"{where}: {key}.webhook_env entries are environment variable names "
                    f"like REGWATCH_SLACK_URL, got {var!r}"
                )
            if not env.get(var):
                raise ConfigError(
                    f"{where}: {key}.webhook_env names {var}, which is not set; "
                    f"export {var}=<Apprise URL> before starting regwatch"
                )
            _check_webhook(env[var], f"{where}: {key}.webhook_env ${var}", f"${var}")


def _check_webhook(url: str, where: str, shown: str | None = None) -> None:
    from alerts.push import check_syntax
    from errors import DeliveryError

    try:
        check_syntax(url, shown)
    except DeliveryError as exc:
        raise ConfigError(f"{where}: {str(exc).removeprefix('push: ')}") from None


def _is_address(value: str) -> bool:
    """One plain ASCII address (no display name, spaces or controls; an internationalised
    domain goes in its xn-- form)."""
    return bool(_ADDRESS_RE.fullmatch(value))


# --------------------------------------------------------------------------- editing
# `regwatch sources add|remove|enable|disable` edit config.toml in place with tomlkit, which
# keeps every comment and the layout. The edited text is validated as a whole (the same
# loader as at start-up) before it replaces the file, atomically; on any error the file is
# untouched.


def add_source(path: Path, block: Mapping[str, Any], comment: str = "") -> None:
    """Append a ``[[sources]]`` block (plain values) at the end of the file."""
    import tomlkit

    text = path.read_text(encoding="utf-8")
    rendered = tomlkit.dumps({"sources": [dict(block)]})
    note = "".join(f"# {line}\n" for line in comment.splitlines() if line.strip())
    header, _, body = rendered.partition("\n")
    _replace_validated(path, f"{text.rstrip()}\n\n{header}\n{note}{body}")


def set_source_enabled(path: Path, name: str, enabled: bool) -> None:
    doc, table = _source_table(path, name)
    table["enabled"] = enabled
    _replace_validated(path, doc.as_string())


def remove_source(path: Path, name: str) -> None:
    doc, _table = _source_table(path, name)
    sources = doc["sources"]
    del sources[[t["name"] for t in sources].index(name)]
    _replace_validated(path, doc.as_string())


def _source_table(path: Path, name: str) -> tuple[Any, Any]:
    import tomlkit

    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    for table in doc.get("sources", []):
        if table.get("name") == name:
            return doc, table
    known = ", ".join(str(t.get("name")) for t in doc.get("sources", [])) or "none"
    raise ConfigError(f"{path}: no source named {name!r} (known: {known})")


def _replace_validated(path: Path, text: str) -> None:
    path = path.resolve()  # a symlinked config.toml is edited where it lives
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        if path.exists():
            shutil.copymode(path, tmp)  # keep its permissions (it may be 600)
        try:
            load(tmp)  # the start-up checks, on the edited text
        except ConfigError as exc:
            raise ConfigError(
                f"{str(exc).replace(str(tmp), str(path))} — nothing was changed in {path}"
            ) from None
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the walker


def _build(
    cls: type[Any],
    table: dict[str, Any],
    where: str,
    prefix: str,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in exclude}
    for key in table:
        if key not in fields:
            near = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            valid = ", ".join(fields)
            raise ConfigError(
                f"{where}: unknown key '{prefix}{key}'{hint} (valid keys here: {valid})"
            )
    values: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        if name not in table:
            if f.metadata.get("required"):
                raise ConfigError(
                    f"{where}: {key} is missing; add it ({f.metadata.get('help', '')})"
                )
            continue
        values[name] = _convert(hints[name], table[name], where, key)
    return cls(**values)


def _convert(tp: Any, value: Any, where: str, key: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a table like [{key}]")
        return _build(tp, value, where, key + ".")  # type: ignore[arg-type]
    if origin is tuple:
        (item_tp, _ellipsis) = get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {key} must be a list, got {_tname(value)}")
        return tuple(_convert(item_tp, v, where, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is Literal:
        options = get_args(tp)
        if value not in options:
            raise ConfigError(
                f"{where}: {key} must be one of {', '.join(map(repr, options))}, got {value!r}"
            )
        return value
    if origin in (types.UnionType, typing.Union):
        raise ConfigError(f"{where}: {key} cannot be set in the file")
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string in quotes, got {value!r}")
        return value
    raise ConfigError(f"{where}: {key}: unsupported setting type {tp!r}")  # pragma: no cover


def _tname(value: Any) -> str:
    return type(value).__name__


def documented_keys() -> dict[str, tuple[Any, str]]:
    """Every settable key (``section.key``) with its default and help — for docs and tests."""
    out: dict[str, tuple[Any, str]] = {}
    for section in ("database", "fetch", "nlp", "digest", "smtp", "delivery", "service", "web"):
        cls = typing.get_type_hints(Settings)[section]
        for f in dataclasses.fields(cls):
            out[f"{section}.{f.name}"] = (_default(f), f.metadata["help"])
    for f in dataclasses.fields(SourceConfig):
        default = None if f.metadata.get("required") else _default(f)
        out[f"sources.{f.name}"] = (default, f.metadata["help"])
    for f in dataclasses.fields(SubscriptionConfig):
        default = None if f.metadata.get("required") else _default(f)
        out[f"subscriptions.{f.name}"] = (default, f.metadata["help"])
    return out


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None
