from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cli import main
from nlp import Flagger
from tests.alerts.conftest import SmtpServer, seed, smtp

__all__ = ["smtp"]  # the fixture, shared with tests/alerts

ROOT = Path(__file__).resolve().parents[1]


def test_config_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(ROOT / "config.toml"), "config", "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_config_check_bad_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[fetch]\nuser_agnt = 'x'\n")
    assert main(["--config", str(bad), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "user_agnt" in err and "user_agent" in err


def test_config_from_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[database]\nurl = "sqlite:///x.db"\n')
    monkeypatch.setenv("REGWATCH_CONFIG", str(cfg))
    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "x.db").exists()
    assert main(["sources", "list"]) == 0
    assert "name" in capsys.readouterr().out


def _alerts_config(tmp_path: Path, smtp_port: int, db_file: Path, digest_time: str) -> Path:
    cfg = tmp_path / "alerts.toml"
    cfg.write_text(
        f"""[database]
url = "sqlite:///{db_file}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "regwatch@watch.example.org"
timeout = 5.0
[[subscriptions]]
name = "gr-tj"
recipients = ["analyst@example.org"]
countries = ["tj"]
digest_time = "{digest_time}"
timezone = "UTC"
""",
        encoding="utf-8",
    )
    return cfg


def test_digest_preview_send_and_alerts_commands(
    tmp_path: Path, flagger: Flagger, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import update

    from store import db
    from store.models import Signal

    db_file = tmp_path / "rw.db"
    engine = db.make_engine(f"sqlite:///{db_file}")
    db.upgrade(engine)
    seeded = seed(engine, flagger)
    with db.session_scope(engine) as session:  # detected an hour ago, before the digest time
        session.execute(update(Signal).values(detected_at=seeded.started - timedelta(hours=1)))
    engine.dispose()
    # the digest was due a minute ago: `digest --send` sends that period
    due = (seeded.started - timedelta(minutes=1)).strftime("%H:%M")
    cfg = str(_alerts_config(tmp_path, smtp.port, db_file, due))
    out = tmp_path / "preview.html"
    assert main(["--config", cfg, "digest", "--preview", "--out", str(out)]) == 0
    assert "Dushanbe" in out.read_text() and out.with_suffix(".txt").exists()
    assert smtp.inbox.messages == []  # a preview sends nothing
    capsys.readouterr()

    assert main(["--config", cfg, "digest", "--send"]) == 0
    assert ": queued" in capsys.readouterr().out and len(smtp.inbox.messages) == 1
    assert main(["--config", cfg, "digest", "--send"]) == 0
    assert ": sent" in capsys.readouterr().out and len(smtp.inbox.messages) == 1

    assert main(["--config", cfg, "alerts", "dispatch"]) == 0  # the Dushanbe alert
    assert "1 sent" in capsys.readouterr().out and len(smtp.inbox.messages) == 2
    assert main(["--config", cfg, "alerts", "list"]) == 0
    listing = capsys.readouterr().out
    assert "digest" in listing and "alert" in listing and listing.count(" sent ") == 2

    smtp.stop()
    assert main(["--config", cfg, "digest", "--send", "--date", "2026-01-01"]) == 3
    assert main(["--config", cfg, "alerts", "retry", "999"]) == 0
    assert "0 failed deliveries" in capsys.readouterr().out
    assert main(["--config", cfg, "digest", "--date", "yesterday"]) == 2
    assert "--date 'yesterday' is not a date" in capsys.readouterr().err
