"""regwatch's exception hierarchy — the one place every domain error is defined.

Deep code raises these with a message that names the component, the object and the fix;
only the edges (``cli.py``, ``scheduler.py``) turn them into exit codes and log lines.

    RegwatchError                                                    (exit 1)
    ├── ConfigError      config.toml or a rules file is wrong        (exit 2)
    │   └── RulesError       an NLP rules file is invalid
    ├── UsageError       a command-line argument or an HTTP query    (exit 2; HTTP 400)
    │   │                parameter is wrong
    │   └── QuerySyntaxError the full-text search text does not parse
    ├── FetchError       an HTTP request failed or was refused
    │   └── UnsafeURLError   the URL or an address it resolves to is not allowed
    ├── FeedError        a body could not be read as a feed
    ├── ExtractError     an HTML page did not yield an article
    ├── StoreError       the database could not be opened or upgraded
    │   ├── LockHeld         another `regwatch run` is using this database
    │   └── EvidenceError    a capture could not be written, or is missing or changed
    └── DeliveryError    a digest or alert could not be written or sent (retried)
        └── PermanentError   retrying cannot help: marked failed at once
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeliveryError",
    "EvidenceError",
    "ExtractError",
    "FeedError",
    "FetchError",
    "LockHeld",
    "PermanentError",
    "QuerySyntaxError",
    "RegwatchError",
    "RulesError",
    "StoreError",
    "UnsafeURLError",
    "UsageError",
]


class RegwatchError(Exception):
    """Base of every error regwatch raises on purpose."""

    exit_code = 1


class ConfigError(RegwatchError):
    """Configuration is invalid; the message names the file, the key and the fix."""

    exit_code = 2


class UsageError(RegwatchError):
    """A command-line argument or an HTTP query parameter is wrong; the message names it and
    what would be accepted. The CLI exits 2, the web API answers 400."""

    exit_code = 2


class QuerySyntaxError(UsageError):
    """The search text does not parse; the message says where and how to fix it."""


class FetchError(RegwatchError):
    """An HTTP request failed: network error, deadline, HTTP status, size cap, redirects."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds, from a 429/503 Retry-After header


class UnsafeURLError(FetchError):
    """The URL's scheme, host or resolved address is refused by the fetch safety rules."""


class FeedError(RegwatchError):
    """A response body is not a readable feed (not XML/JSON, entity attack, parser crash)."""


class ExtractError(RegwatchError):
    """An HTML page did not yield the fields a source's selectors ask for."""


class RulesError(ConfigError):
    """A file under nlp/rules/ is invalid."""


class StoreError(RegwatchError):
    """The database could not be opened, upgraded or written."""


class LockHeld(StoreError):
    """Another `regwatch run` is using this database."""


class EvidenceError(StoreError):
    """A capture could not be written to the evidence folder, or is missing or changed."""


class DeliveryError(RegwatchError):
    """A digest or alert could not be rendered, written or sent."""


class PermanentError(DeliveryError):
    """A delivery that retrying cannot help (its subscription or channel is gone, or the
    channel is turned off): the outbox marks the row failed at once, without back-off.

    Its message starts with "not retried: ", as `regwatch alerts list` shows it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"not retried: {message}")
