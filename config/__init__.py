"""Load and validate config.toml once, into frozen, typed objects.

Every setting is a dataclass field declared once with its default, a ``help`` text and, for a
number, its :class:`Bounds`; the loader walks the TOML tables against those fields, so an
unknown key, a wrong type, a missing value or a number out of range stops with a
:class:`ConfigError` naming the file, the key and the fix. Values are parsed once into the
type their code needs (``digest_time`` is a :class:`datetime.time`). Only this package, ``cli.py``
and ``scheduler.py`` see the whole configuration; components get plain values.

``settings.py`` holds the dataclasses, ``walker.py`` turns TOML tables into them and enforces
the declared ranges, ``checks.py`` validates what a range cannot say, ``loading.py`` reads the
file and ``editing.py`` edits it in place. Import from ``config``, not from those modules.
"""

from __future__ import annotations

from regwatch.config.editing import add_source, remove_source, set_source_enabled
from regwatch.config.loading import default_config_path, load, load_sources
from regwatch.config.settings import (
    COUNTRIES,
    LANGUAGES,
    DatabaseConfig,
    DeliveryConfig,
    DigestConfig,
    EvidenceConfig,
    FetchConfig,
    NlpConfig,
    ServiceConfig,
    Settings,
    SmtpConfig,
    SourceConfig,
    SubscriptionConfig,
    WebConfig,
)
from regwatch.config.settings import Bounds as Bounds
from regwatch.config.settings import GroupBy as GroupBy
from regwatch.config.settings import QuietDay as QuietDay
from regwatch.config.settings import Security as Security
from regwatch.config.settings import SourceType as SourceType
from regwatch.config.settings import Tier as Tier
from regwatch.config.settings import required as required
from regwatch.config.settings import setting as setting
from regwatch.config.walker import documented_keys as documented_keys

__all__ = [
    "COUNTRIES",
    "LANGUAGES",
    "DatabaseConfig",
    "DeliveryConfig",
    "DigestConfig",
    "EvidenceConfig",
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
