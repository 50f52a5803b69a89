"""A saved search is a subscription: `text = '…'` in [[subscriptions]] (the --text syntax)
narrows its digest and its immediate alerts to the documents the search matches — checked on
the mail a real SMTP server on 127.0.0.1 receives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from regwatch.cli import main
from regwatch.config import load
from regwatch.errors import ConfigError
from tests.alerts.conftest import SmtpServer, smtp

__all__ = ["smtp"]

DOCS = [
    {"url": "https://a.example/dushanbe", "title": "AI Center in Dushanbe",
     "text": "Tajikistan proposed a regional AI Center in Dushanbe to coordinate artificial "
             "intelligence rules across Central Asia.", "source": "wire", "country": "tj"},
    {"url": "https://a.example/draft", "title": "Законопроект об ИИ",
     "text": "Министерство опубликовало законопроект об искусственном интеллекте.",
     "source": "wire", "country": "kz"},
]  # fmt: skip


def _config(tmp_path: Path, port: int, text: str) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""[database]
url = "sqlite:///{tmp_path / "s.db"}"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
[[subscriptions]]
name = "saved"
recipients = ["analyst@example.org"]
text = '{text}'
min_score = 0.1
alert_threshold = 0.1
timezone = "UTC"
digest_time = "23:59"
""",
        encoding="utf-8",
    )
    return cfg


def test_the_saved_search_narrows_digest_and_alerts(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path, smtp.port, 'законопроекты OR "AI law"')  # any inflection
    lines = tmp_path / "in.jsonl"
    lines.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS), "utf-8")
    assert main(["--config", str(cfg), "import", str(lines)]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "alerts", "dispatch"]) == 0
    assert smtp.inbox.messages
    bodies = [str(m.message.get_body(("plain",))) for m in smtp.inbox.messages]
    assert all("a.example/draft" in b for b in bodies)
    assert not any("a.example/dushanbe" in b for b in bodies)
    today = datetime.now(UTC).date().isoformat()
    assert main(["--config", str(cfg), "digest", "--date", today]) == 0
    digest = capsys.readouterr().out
    assert "a.example/draft" in digest and "a.example/dushanbe" not in digest


def test_a_saved_search_with_bad_syntax_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"subscriptions\[0\] \(saved\)\.text: .*closing quote"):
        load(_config(tmp_path, 25, '"unclosed'), env={})
