"""The ``regwatch flag`` contract: one JSON line out per line in, in order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nlp import Flagger
from nlp.jsonl import flag_lines

LINES = [
    json.dumps({"id": 1, "text": "Мажилис одобрил законопроект об искусственном интеллекте."}),
    "{broken",
    json.dumps(
        {
            "id": "b",
            "title": "AI Center",
            "lang": "en",
            "text": "Tajikistan proposed a regional AI Center in Dushanbe.",
        }
    ),
    json.dumps({"text": "no id"}),
    "",
    json.dumps({"id": 6, "text": "Weather in Almaty is sunny.", "url": "https://x.kz/1"}),
    json.dumps([1, 2]),
]


def test_contract_in_process(flagger: Flagger) -> None:
    out = list(flag_lines(LINES, flagger))
    assert len(out) == len(LINES)
    assert out[0]["id"] == 1 and out[0]["lang"] == "ru"
    [sig] = out[0]["signals"]
    assert sig["category"] == "draft_instrument" and sig["field"] == "text"
    text = json.loads(LINES[0])["text"]
    assert text[sig["start"] : sig["end"]] == sig["text"] == "законопроект"
    assert {"sentence", "score", "countries", "bodies", "attributes"} <= set(sig)
    assert out[1]["line"] == 2 and "not JSON" in out[1]["error"]
    assert {s["field"] for s in out[2]["signals"]} == {"title", "text"}
    assert out[3] == {"line": 4, "error": 'needs "id" and a string "text"'}
    assert out[4]["line"] == 5
    assert out[5] == {"id": 6, "lang": "en", "signals": []}
    assert out[6]["line"] == 7


def test_workers_give_the_same_output(flagger: Flagger) -> None:
    many = LINES * 30
    assert list(flag_lines(many, flagger, workers=2, chunk=8)) == list(flag_lines(many, flagger))


def test_cli_reads_stdin_and_files(tmp_path: Path) -> None:
    # run where there is no config.toml: the bundled rules apply
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "flag", "-"],
        input="\n".join(LINES),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == len(LINES) and rows[0]["signals"]
    missing = subprocess.run(
        [sys.executable, "-m", "cli", "flag", str(tmp_path / "none.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr
