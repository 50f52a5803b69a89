"""`--format json` on the commands that list or summarise — one JSON document, messages in
full — and the names a command was given that cannot work (a disabled source)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regwatch.cli import main
from tests.conftest import LocalSite

FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об искусственном интеллекте</title><link>__BASE__/n/1</link>
<description>Министерство цифрового развития внесло законопроект об ИИ.</description></item>
</channel></rss>"""
LONG_ERROR_PATH = "/gone/" + "x" * 150 + ".xml"


def _config(tmp_path: Path, site: LocalSite) -> Path:
    good = site.add("/rss.xml", FEED, content_type="application/rss+xml")
    gone = site.add(LONG_ERROR_PATH, "not here", status=404)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""[database]
url = "sqlite:///{tmp_path / "j.db"}"
[fetch]
allow_networks = ["127.0.0.0/8"]
[[sources]]
name = "feed"
url = "{good}"
country = "kz"
[[sources]]
name = "gone"
url = "{gone}"
country = "kg"
[[sources]]
name = "off"
url = "{good}"
country = "uz"
enabled = false
""",
        encoding="utf-8",
    )
    return cfg


def _json(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> Any:
    assert main(list(argv)) == code
    return json.loads(capsys.readouterr().out)


def test_json_output_of_listing_and_summarising_commands(
    tmp_path: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(_config(tmp_path, site))
    run = _json(capsys, "--config", cfg, "collect", "--format", "json", code=3)
    assert run["sources_ok"] == 1 and run["sources_failed"] == 1
    assert run["outcomes"]["new"] == 1 and run["signals_new"] >= 1
    assert LONG_ERROR_PATH in run["errors"]["gone"]  # not cut to a column

    listed = _json(capsys, "--config", cfg, "sources", "list", "--format", "json")
    by_name = {r["name"]: r for r in listed}
    assert by_name["feed"]["state"] == "ok" and by_name["feed"]["items_last_run"] == 1
    assert (
        by_name["gone"]["state"] == "failing" and LONG_ERROR_PATH in by_name["gone"]["last_error"]
    )
    assert by_name["off"]["enabled"] is False

    checked = _json(capsys, "--config", cfg, "sources", "check", "feed", "--format", "json")
    assert checked["source"] == "feed" and checked["preview"]["items"] == 1
    assert checked["preview"]["signals"]

    report = _json(capsys, "--config", cfg, "backtest", "--format", "json")
    assert report["documents"] == 1 and report["added"] == [] and report["removed"] == []

    outbox = _json(capsys, "--config", cfg, "alerts", "list", "--format", "json")
    assert outbox == []  # no subscriptions

    status = _json(capsys, "--config", cfg, "status", "--format", "json", code=0)
    assert status["service"] == "not running"


def test_collect_a_disabled_source_says_so(
    tmp_path: Path, site: LocalSite, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(_config(tmp_path, site))
    assert main(["--config", cfg, "collect", "--source", "off"]) == 2
    err = capsys.readouterr().err
    assert "collect --source off: the source is disabled" in err
    assert "regwatch sources enable off" in err
    assert site.hits == []
