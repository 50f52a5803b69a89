from __future__ import annotations

from pathlib import Path

import pytest

from cli import main

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
