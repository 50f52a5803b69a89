"""`regwatch feedback` and `regwatch eval --feedback` on a real SQLite store: verdicts on
signals and a missed category, precision per rule and per category with counts, and the
errors that name what to give instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regwatch.cli import main


def test_feedback_and_eval_feedback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8")
    doc = {
        "url": "https://archive.example/kz/1",
        "title": "Законопроект об ИИ",
        "text": "Министерство опубликовало законопроект об искусственном интеллекте.",
        "source": "old-archive",
        "country": "kz",
    }
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    run = ["--config", str(cfg)]
    assert main([*run, "import", str(src)]) == 0
    capsys.readouterr()
    assert main([*run, "query", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows
    first = rows[0]
    assert main([*run, "feedback", str(first["signal_id"]), "--not-relevant", "--note", "x"]) == 0
    assert "not_relevant" in capsys.readouterr().out
    assert main([*run, "feedback", "--document", str(first["document_id"]),
                 "--missed", "regional_cooperation"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main([*run, "eval", "--feedback"]) == 0
    out = capsys.readouterr().out.splitlines()
    rule_row = next(line for line in out if line.startswith(first["rule"] + " "))
    assert rule_row.split()[1:4] == ["0.00", "0", "1"]
    regional = next(line for line in out if line.startswith("regional_cooperation "))
    assert regional.split()[1:] == ["-", "0", "0", "1"]

    assert main([*run, "feedback", "999999", "--relevant"]) == 2
    assert "no signal 999999" in capsys.readouterr().err
    assert main([*run, "feedback", str(first["signal_id"])]) == 2
    assert "--relevant or --not-relevant" in capsys.readouterr().err
    assert main([*run, "feedback", "--document", "1", "--missed", "nonsense"]) == 2
    assert "not a category" in capsys.readouterr().err
