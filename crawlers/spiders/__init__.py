"""Spiders for ``html`` and ``sitemap`` sources, registered by name.

The generic spiders (``generic.py``) are driven by a source's configuration. A site that needs
code gets one module here that subclasses one of them and registers itself::

    @register("kz-gov")
    class KzGovSpider(ListingSpider):
        def parse_article(self, response): ...

and its source names it: ``spider = "kz-gov"``. Every module in this package is imported on
first lookup, so adding the file is all it takes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TypeVar

from regwatch.errors import ConfigError

__all__ = ["SPIDERS", "register", "spider_class"]

SPIDERS: dict[str, type] = {}
_T = TypeVar("_T", bound=type)
_loaded = False


def register(name: str) -> Callable[[_T], _T]:
    """Class decorator: make a spider available to sources as ``spider = "<name>"``."""

    def add(cls: _T) -> _T:
        if SPIDERS.get(name, cls) is not cls:
            raise ConfigError(f"spiders: two spiders registered as {name!r}; rename one")
        SPIDERS[name] = cls
        return cls

    return add


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def spider_class(source_type: str, name: str = "") -> type:
    """The spider for a source: the one registered as ``name``, else the generic one."""
    _load_all()
    key = name or f"generic-{source_type}"
    if key not in SPIDERS:
        known = ", ".join(sorted(k for k in SPIDERS if not k.startswith("generic-"))) or "none"
        raise ConfigError(
            f"spiders: no spider named {name!r} (site spiders: {known}); add "
            f"crawlers/spiders/<site>.py registering it, or leave the source's spider empty"
        )
    return SPIDERS[key]
