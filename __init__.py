"""regwatch: watch AI regulation take shape in Central Asia — crawl, flag, store, alert.

The repository root is this package: ``regwatch.crawlers``, ``regwatch.nlp``, ``regwatch.store``,
``regwatch.alerts``, ``regwatch.scheduler`` and the rest install under this one name.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("regwatch")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
