"""Reading config.toml: the file, the environment's overrides and secrets, the checks."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from regwatch.config.checks import (
    _ENV_RE,
    _check_delivery,
    _check_smtp,
    _check_sources,
    _check_subscriptions,
    _check_web,
)
from regwatch.config.settings import Settings, SourceConfig
from regwatch.config.walker import _build
from regwatch.errors import ConfigError


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
