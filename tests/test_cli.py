from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from regwatch.cli import main
from regwatch.nlp import Flagger
from tests.alerts.conftest import SmtpServer, seed, smtp
from tests.conftest import LocalSite

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

    from regwatch.store import db
    from regwatch.store.models import Signal

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
    today = seeded.started.date().isoformat()  # the period that ended a minute ago
    assert main(["--config", cfg, "digest", "--preview", "--date", today, "--out", str(out)]) == 0
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
    assert main(["--config", cfg, "alerts", "retry", "999"]) == 2  # an unknown id says so
    assert "there is no delivery 999" in capsys.readouterr().err
    assert main(["--config", cfg, "alerts", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    sent = next(r for r in listed if r["status"] == "sent")
    assert main(["--config", cfg, "alerts", "retry", str(sent["id"])]) == 2
    assert f"delivery {sent['id']} is sent, not failed" in capsys.readouterr().err
    assert main(["--config", cfg, "digest", "--date", "yesterday"]) == 2
    assert "--date 'yesterday' is not a date" in capsys.readouterr().err
    assert main(["--config", cfg, "digest", "--preview", "--date", "0001-01-01"]) == 2
    assert "use a day from 2000 to today" in capsys.readouterr().err
    tomorrow = (seeded.started + timedelta(days=1)).date().isoformat()
    assert main(["--config", cfg, "digest", "--send", "--date", tomorrow]) == 2
    assert "preview it instead" in capsys.readouterr().err


def test_import_query_export_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[database]\nurl = "sqlite:///a.db"\n', encoding="utf-8")
    lines = [
        {
            "url": "https://archive.example/kz/1",
            "title": "Законопроект об ИИ",
            "text": "Министерство опубликовало законопроект об искусственном интеллекте.",
            "published": "2026-11-20",
            "source": "old-archive",
            "country": "kz",
        },
        {
            "url": "https://archive.example/tj/1",
            "title": "AI Center",
            "text": "Tajikistan proposed a regional AI Center in Dushanbe.",
            "source": "old-archive",
        },
        "not json",
    ]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
        + "\n",
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "import", str(src)]) == 3  # one line was bad
    out = capsys.readouterr()
    assert "imported 2 documents: 2 new" in out.out and "line 3: not JSON" in out.err
    assert main(["--config", str(cfg), "import", str(src)]) == 3
    assert "0 new, 0 updated, 2 unchanged" in capsys.readouterr().out  # nothing twice

    assert main(["--config", str(cfg), "query", "--country", "tj", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["category"] for r in rows} == {"dushanbe_ai_center"}  # title and text
    assert rows[0]["source"] == "old-archive" and rows[0]["url"] == "https://archive.example/tj/1"
    assert main(["--config", str(cfg), "query", "--category", "draft_instrument"]) == 0
    table = capsys.readouterr()
    assert table.out.startswith("score") and "Законопроект" in table.out
    assert "(2 signals)" in table.err  # title and text
    assert main(["--config", str(cfg), "query", "--text", "законопроекты", "--format", "csv"]) == 0
    assert "archive.example/kz/1" in capsys.readouterr().out  # every inflection
    assert main(["--config", str(cfg), "query", "--text", '"oops']) == 2
    assert "no closing quote" in capsys.readouterr().err
    assert main(["--config", str(cfg), "query", "--since", "yesterday-ish"]) == 2
    assert "--since 'yesterday-ish'" in capsys.readouterr().err

    dump = tmp_path / "docs.jsonl"
    assert main(["--config", str(cfg), "export", "--what", "documents", "--out", str(dump)]) == 0
    capsys.readouterr()
    cfg2 = tmp_path / "c2.toml"
    cfg2.write_text('[database]\nurl = "sqlite:///b.db"\n', encoding="utf-8")
    assert main(["--config", str(cfg2), "import", str(dump)]) == 0
    assert "imported 2 documents: 2 new" in capsys.readouterr().out
    assert main(["--config", str(cfg2), "export", "--format", "csv"]) == 0
    exported = capsys.readouterr().out.splitlines()
    assert exported[0].startswith("signal_id,category,score")
    assert {line.split(",")[1] for line in exported[1:]} == {
        "draft_instrument",
        "dushanbe_ai_center",
    }


FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об искусственном интеллекте</title><link>__BASE__/n/1</link>
<description>Министерство цифрового развития внесло законопроект об ИИ.</description></item>
</channel></rss>"""


def test_run_once_polls_due_sources_and_sends_then_nothing_twice(
    tmp_path: Path, site: LocalSite, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = site.add("/rss.xml", FEED, content_type="application/rss+xml")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""[database]
url = "sqlite:///{tmp_path / "once.db"}"
[fetch]
allow_networks = ["127.0.0.0/8"]
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
[[subscriptions]]
name = "gr"
recipients = ["analyst@example.org"]
alert_threshold = 0.8
[[sources]]
name = "feed"
url = "{url}"
country = "kz"
interval_minutes = 30
""",
        encoding="utf-8",
    )
    assert main(["--config", str(cfg), "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "1 source due — 1 ok" in out and "1 new" in out and "1 sent" in out
    assert len(smtp.inbox.messages) == 1 and site.hits.count("/rss.xml") == 1
    assert main(["--config", str(cfg), "run", "--once", "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)  # 30 minutes have not passed
    assert again["due"] == [] and again["outbox"]["sent"] == 0
    assert again["collect"]["sources_ok"] == 0
    assert len(smtp.inbox.messages) == 1 and site.hits.count("/rss.xml") == 1


def test_config_check_warns_about_a_user_agent_without_contact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[fetch]\nuser_agent = "regwatch/0.1"\n')
    assert main(["--config", str(cfg), "config", "check"]) == 0
    assert "fetch.user_agent has no contact" in capsys.readouterr().err
    cfg.write_text('[fetch]\nuser_agent = "regwatch/0.1 (ops@example.org)"\n')
    assert main(["--config", str(cfg), "config", "check"]) == 0
    assert "warning" not in capsys.readouterr().err
