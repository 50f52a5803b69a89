"""Logging for the command line and the service: readable lines by default, one JSON object
per line on request (``--log-json`` or ``REGWATCH_LOG_FORMAT=json``) for log shippers."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "setup"]

# LogRecord attributes that are not extra fields a caller passed
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, any ``extra={...}`` fields, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup(verbose: bool, as_json: bool | None = None) -> None:
    if as_json is None:
        as_json = os.environ.get("REGWATCH_LOG_FORMAT", "").lower() == "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler._regwatch = True  # type: ignore[attr-defined]
    root = logging.getLogger()  # replace only our own handler (a test runner may have others)
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "_regwatch", False)]
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.ERROR)
    # httpx logs every request at INFO: -v means regwatch's progress, not a request log
    for noisy in ("alembic", "pymorphy3", "apscheduler", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
