"""Reading config.toml: the file, the environment's overrides and secrets, the checks."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from regwatch.config.checks import check, check_sources, is_env_name
from regwatch.config.settings import Settings, SourceConfig
from regwatch.config.walker import build, check_bounds
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
    settings = build(Settings, {k: v for k, v in raw.items()}, str(path), "", exclude={"path"})
    settings = dataclasses.replace(settings, path=path)
    return _finish(settings, path, env)


def load_sources(path: Path | str, base_url: str = "") -> tuple[SourceConfig, ...]:
    """Read a file holding only ``[[sources]]`` blocks (the demo's), prefixing ``base_url``."""
    path = Path(path)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    built = build(Settings, {"sources": raw.get("sources", [])}, str(path), "", exclude={"path"})
    check_bounds(built, str(path))
    sources = tuple(dataclasses.replace(s, url=base_url + s.url) for s in built.sources)
    check_sources(sources, str(path))
    return sources


def _finish(settings: Settings, path: Path, env: Mapping[str, str]) -> Settings:
    where = str(path)
    db = settings.database
    url = env.get("REGWATCH_DATABASE_URL") or db.url
    url = _resolve_database_url(url, db.password_env, path.parent, env, where)
    settings = dataclasses.replace(settings, database=dataclasses.replace(db, url=url))
    folder = evidence_folder(settings.evidence.dir, url, path.parent)
    settings = dataclasses.replace(
        settings, evidence=dataclasses.replace(settings.evidence, dir=folder)
    )
    check_bounds(settings, where)
    check(settings, where, env)
    return settings


def evidence_folder(folder: str, database_url: str, base: Path) -> str:
    """evidence.dir as an absolute path: relative to the config file's folder; empty means
    ``evidence`` beside the SQLite database file (beside the config file otherwise)."""
    if folder:
        return str((base / folder).resolve())
    if database_url.startswith("sqlite:///"):
        name = database_url.removeprefix("sqlite:///")
        if name and name != ":memory:":
            return str((Path(name).parent / "evidence").resolve())
    return str((base / "evidence").resolve())


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
        if not is_env_name(password_env):
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
