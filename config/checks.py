"""Validation of the built settings beyond their declared ranges (those are the walker's), section
by section; each error names the key and the fix."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from regwatch.config.settings import (
    COUNTRIES,
    LANGUAGES,
    FetchConfig,
    Settings,
    SmtpConfig,
    SourceConfig,
    Tier,
    WebConfig,
)
from regwatch.errors import ConfigError

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_ENV_RE = re.compile(r"[A-Z_][A-Z0-9_]*")
_ADDRESS_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
)


def check(settings: Settings, where: str, env: Mapping[str, str]) -> None:
    """Everything about ``settings`` that a range beside a setting cannot say."""
    _check_fetch(settings.fetch, where)
    check_sources(settings.sources, where)
    for i, src in enumerate(settings.sources):
        _check_source_secrets(src, f"{where}: sources[{i}] ({src.name})", env)
    _check_smtp(settings.smtp, where, env)
    _check_web(settings.web, where)
    _check_subscriptions(settings, where, env)


def is_source_name(value: str) -> bool:
    """A source's (or subscription's) name: lowercase letters, digits, - and _."""
    return bool(_NAME_RE.fullmatch(value))


def is_env_name(value: str) -> bool:
    """An environment variable's name, like REGWATCH_SMTP_PASSWORD."""
    return bool(_ENV_RE.fullmatch(value))


def check_sources(sources: tuple[SourceConfig, ...], where: str) -> None:
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
        problem = url_problem(src.url)
        if problem:
            raise ConfigError(f"{where}: {key}.url {problem}")
        if src.country not in COUNTRIES:
            raise ConfigError(
                f"{where}: {key}.country must be one of {', '.join(COUNTRIES)}, got {src.country!r}"
            )
        bad = [lang for lang in src.languages if lang not in LANGUAGES]
        if bad or not src.languages:
            raise ConfigError(
                f"{where}: {key}.languages must list codes from {', '.join(LANGUAGES)}, got {bad}"
            )
        for pattern in (*src.allow, *src.deny):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"{where}: {key}: {pattern!r} in allow/deny is not a valid regex ({exc})"
                ) from None
        for name in SELECTORS:
            selector = getattr(src, name)
            if selector and (why := selector_problem(selector)):
                raise ConfigError(
                    f"{where}: {key}.{name} {selector!r} is not a valid CSS selector ({why}); "
                    'e.g. "a.news-link" or "div.list h3 > a"'
                )
        for name in ("auth_env", "headers_env"):
            var = getattr(src, name)
            if var and not _ENV_RE.fullmatch(var):
                raise ConfigError(
                    f"{where}: {key}.{name} must be an environment variable name like "
                    f"REGWATCH_KZ_GOV_AUTH (never the secret itself), got {var!r}"
                )
        if src.type == "html" and not src.link_selector and not src.spider:
            # a site spider (crawlers/spiders/) finds its own links
            raise ConfigError(
                f'{where}: {key} is type "html" but has no link_selector; add the CSS selector '
                'of the article links on its listing page, e.g. link_selector = "a.news-link"'
            )


MAX_URL = 2048  # characters: the store's canonical_url column (String(2048))
SELECTORS = ("link_selector", "title_selector", "text_selector", "date_selector", "next_selector")
_MISREAD = re.compile(r"[\x00-\x20\x7f-\x9f\\]")  # parsers disagree on these (WHATWG vs RFC 3986)
AUTH_HINT = (
    "put them in an environment variable named by the source's auth_env (HTTP Basic; its "
    "value user:password) or headers_env (its value one header, e.g. 'Authorization: Bearer "
    "…'); secrets never go in config.toml"
)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a source's URL (the words after "url"), or None. Never quotes a
    URL that carries credentials."""
    bad = _MISREAD.search(url)
    if bad:
        return (
            f"contains {bad.group()!r} (a backslash, whitespace or a control character), "
            "which URL parsers read differently; percent-encode it (%5C, %20)"
        )
    try:
        has_credentials = "@" in urlsplit(url).netloc
    except ValueError:
        has_credentials = False
    if has_credentials:
        return f"carries credentials (user:password@); remove them and {AUTH_HINT}"
    if len(url) > MAX_URL:
        return f"is {len(url)} characters long, over the {MAX_URL} the database keeps"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port out of range
    except ValueError as exc:
        return f"{url!r} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must start with http:// or https:// and name a host"
    return None


def selector_problem(selector: str) -> str | None:
    """Why the CSS ``selector`` does not parse (the crawler's parser: parsel), or None."""
    from parsel import Selector

    try:
        Selector(text="<html></html>").css(selector)
    except Exception as exc:  # cssselect raises several types on a bad selector
        return str(exc) or type(exc).__name__
    return None


def source_headers(src: SourceConfig, env: Mapping[str, str]) -> dict[str, str]:
    """The headers ``auth_env``/``headers_env`` name, from ``env``; ValueError says what is
    wrong with a value without quoting it."""
    import base64

    out: dict[str, str] = {}
    if src.auth_env:
        value = env.get(src.auth_env, "")
        if ":" not in value or "\n" in value or "\r" in value:
            raise ValueError(
                f"auth_env names {src.auth_env}, which is "
                + ("not set" if not value else "not of the form user:password")
                + f"; export {src.auth_env}='user:password' before starting regwatch"
            )
        out["Authorization"] = "Basic " + base64.b64encode(value.encode()).decode("ascii")
    if src.headers_env:
        value = env.get(src.headers_env, "")
        name, _, content = value.partition(":")
        if (
            not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name)
            or not content.strip()
            or any(c in value for c in "\r\n\0")
        ):
            raise ValueError(
                f"headers_env names {src.headers_env}, which is "
                + ("not set" if not value else "not one header like 'Name: value'")
                + f"; export {src.headers_env}='Authorization: Bearer …' before starting regwatch"
            )
        out[name] = content.strip()
    return out


def _check_source_secrets(src: SourceConfig, key: str, env: Mapping[str, str]) -> None:
    try:
        source_headers(src, env)
    except ValueError as exc:
        raise ConfigError(f"{key}.{exc}") from None


def _check_fetch(fetch: FetchConfig, where: str) -> None:
    from regwatch.crawlers.addresses import parse_networks

    try:
        parse_networks(fetch.allow_networks)
    except ValueError as exc:
        raise ConfigError(f"{where}: fetch.allow_networks: {exc}") from None


def _check_smtp(smtp: SmtpConfig, where: str, env: Mapping[str, str]) -> None:
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


def _check_web(web: WebConfig, where: str) -> None:
    if not web.host.strip():
        raise ConfigError(f"{where}: web.host is empty; use 127.0.0.1 (this machine only)")
    if not _ENV_RE.fullmatch(web.token_env):
        raise ConfigError(
            f"{where}: web.token_env must be an environment variable name like "
            f"REGWATCH_WEB_TOKEN, got {web.token_env!r}"
        )


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
        if sub.text.strip():
            from regwatch.errors import QuerySyntaxError
            from regwatch.store.search import parse

            try:  # the syntax only: words are normalized when the search runs
                parse(sub.text, lambda t: re.findall(r"\w+", t.lower()))
            except QuerySyntaxError as exc:
                raise ConfigError(f"{where}: {key}.text: {exc}") from None
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
                from regwatch.nlp.rules import load_rules

                categories = set(load_rules(settings.nlp.rules_dir or None).categories)
            wrong = [c for c in sub.categories if c not in categories]
            if wrong:
                near = difflib.get_close_matches(wrong[0], sorted(categories), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ConfigError(
                    f"{where}: {key}.categories: no rules define {wrong[0]!r}{hint} "
                    f"(known: {', '.join(sorted(categories))})"
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
    from regwatch.alerts.push import check_syntax
    from regwatch.errors import DeliveryError

    try:
        check_syntax(url, shown)
    except DeliveryError as exc:
        raise ConfigError(f"{where}: {str(exc).removeprefix('push: ')}") from None


def _is_address(value: str) -> bool:
    """One plain ASCII address (no display name, spaces or controls; an internationalised
    domain goes in its xn-- form)."""
    return bool(_ADDRESS_RE.fullmatch(value))
