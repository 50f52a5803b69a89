from __future__ import annotations

import json
import logging

import pytest

from regwatch import logs


def test_json_lines_carry_extra_fields_and_exceptions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REGWATCH_LOG_FORMAT", "json")
    logs.setup(verbose=True)
    log = logging.getLogger("regwatch.test")
    log.info("polled %s", "kz-gov", extra={"source": "kz-gov", "items": 3})
    try:
        raise ValueError("bad feed\nsecond line")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "polled kz-gov" and first["source"] == "kz-gov"
    assert first["items"] == 3 and first["level"] == "info" and first["logger"] == "regwatch.test"
    assert second["level"] == "error" and "ValueError: bad feed" in second["exception"]


def test_plain_lines_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REGWATCH_LOG_FORMAT", raising=False)
    logs.setup(verbose=True)
    logging.getLogger("regwatch.test").warning("quiet source")
    line = capsys.readouterr().err.strip()
    assert line.endswith("WARNING regwatch.test: quiet source")
    logs.setup(verbose=False)  # leave the root logger as the other tests expect
