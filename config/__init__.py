"""Load and validate config.toml once, into frozen, typed objects.

Every setting is a dataclass field with a default and a ``help`` text; the loader walks the
TOML tables against those fields, so an unknown key, a wrong type or a missing value stops
with a :class:`ConfigError` naming the file, the key and the fix. Only this package, ``cli.py``
and ``scheduler.py`` see the whole configuration; components get plain values.

``settings.py`` holds the dataclasses, ``walker.py`` turns TOML tables into them,
``checks.py`` validates the result, ``loading.py`` reads the file and ``editing.py`` edits it
in place. Import from ``config``, not from those modules.
"""

from __future__ import annotations

from config.editing import add_source, remove_source, set_source_enabled
from config.loading import default_config_path, load, load_sources
from config.settings import (
    COUNTRIES,
    LANGUAGES,
    DatabaseConfig,
    DeliveryConfig,
    DigestConfig,
    FetchConfig,
    NlpConfig,
    ServiceConfig,
    Settings,
    SmtpConfig,
    SourceConfig,
    SubscriptionConfig,
    WebConfig,
)
from config.settings import GroupBy as GroupBy
from config.settings import QuietDay as QuietDay
from config.settings import Security as Security
from config.settings import SourceType as SourceType
from config.settings import Tier as Tier
from config.settings import required as required
from config.settings import setting as setting
from config.walker import documented_keys as documented_keys

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
