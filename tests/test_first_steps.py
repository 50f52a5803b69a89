"""A new user's first commands: `config init` writes the documented template; `alerts test`
sends one message through each of a subscription's channels (a real SMTP server on
127.0.0.1) and says which could not."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from regwatch.cli import main
from regwatch.config import load
from tests.alerts.conftest import SmtpServer, smtp

__all__ = ["smtp"]

TEMPLATE = Path(__file__).resolve().parent.parent / "config.toml"


def test_config_init_writes_the_template_and_keeps_a_file_that_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine.toml"
    assert main(["config", "init", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")
    assert f"regwatch --config {target} config check" in capsys.readouterr().out
    assert load(target, env={}).path == target  # it loads as it is
    target.write_text("# my edits\n", encoding="utf-8")
    assert main(["config", "init", str(target)]) == 2
    assert "exists; pick another PATH, or --force" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# my edits\n"
    assert main(["config", "init", str(target), "--force"]) == 0
    assert main(["config", "init", str(tmp_path / "no" / "dir.toml")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_alerts_test_sends_through_each_channel(
    tmp_path: Path, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""[database]
url = "sqlite:///{tmp_path / "t.db"}"
[fetch]
allow_networks = ["127.0.0.0/8"]
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "regwatch@example.org"
[[subscriptions]]
name = "gr"
recipients = ["a@example.org", "b@example.org"]
webhooks = ["json://127.0.0.1:9/hook"]
""",
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "alerts", "test", "gr"]) == 3  # nothing on port 9
    out = capsys.readouterr().out
    assert "email → a@example.org, b@example.org: sent" in out
    assert "→ json://127.0.0.1: failed: push:" in out  # each channel tried, each reported
    assert len(smtp.inbox.messages) == 1
    got = smtp.inbox.messages[0]
    assert sorted(got.rcpt_tos) == ["a@example.org", "b@example.org"]
    parsed = email.message_from_bytes(got.data, policy=email.policy.default)
    assert parsed["Subject"] == "regwatch test message for gr"
    assert main(["--config", str(cfg), "alerts", "test", "nobody"]) == 2
    assert "no subscription named 'nobody'" in capsys.readouterr().err
    smtp.stop()
    assert main(["--config", str(cfg), "alerts", "test", "gr"]) == 3
    assert "email → a@example.org, b@example.org: failed:" in capsys.readouterr().out
