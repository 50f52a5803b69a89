"""Read-only analyst UI and JSON API (`regwatch serve`)."""

from regwatch.web.app import WebOptions, create_app
from regwatch.web.security import is_loopback

__all__ = ["WebOptions", "create_app", "is_loopback"]
