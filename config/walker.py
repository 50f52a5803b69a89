"""The walker: TOML tables checked against the settings dataclasses, key by key, and the
built settings checked against every range declared beside a setting."""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from datetime import time
from typing import Any, Literal, get_args, get_origin

from regwatch.config.settings import (
    RETIRED,
    Bounds,
    Settings,
    SourceConfig,
    SubscriptionConfig,
)
from regwatch.errors import ConfigError

_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def build(
    cls: type[Any],
    table: dict[str, Any],
    where: str,
    prefix: str,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in exclude}
    for key in table:
        if f"{prefix}{key}" in RETIRED:
            raise ConfigError(f"{where}: {prefix}{key} {RETIRED[prefix + key]}")
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
        return build(tp, value, where, key + ".")  # type: ignore[arg-type]
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
    if tp is time:
        hh_mm = _HH_MM.fullmatch(value) if isinstance(value, str) else None
        if hh_mm is None:
            raise ConfigError(f"{where}: {key} must be HH:MM on a 24-hour clock, got {value!r}")
        return time(int(hh_mm[1]), int(hh_mm[2]))
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string in quotes, got {value!r}")
        return value
    raise ConfigError(f"{where}: {key}: unsupported setting type {tp!r}")  # pragma: no cover


def check_bounds(obj: Any, where: str, prefix: str = "") -> None:
    """Every number in ``obj`` (settings, recursively) within the bounds its ``setting()``
    declares; a list entry is named by its index and name, like ``sources[0] (kz-gov)``."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        bounds: Bounds | None = f.metadata.get("bounds")
        if bounds is not None and not bounds.admits(value):
            raise ConfigError(f"{where}: {prefix}{f.name} must be {bounds.describe()}, got {value}")
        if dataclasses.is_dataclass(value):
            check_bounds(value, where, f"{prefix}{f.name}.")
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, SourceConfig | SubscriptionConfig):
                    check_bounds(item, where, f"{prefix}{f.name}[{i}] ({item.name}).")


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
