"""The ``regwatch flag`` contract: one JSON line out per line in, in order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from regwatch.nlp import Flagger
from regwatch.nlp.jsonl import flag_lines, match_json
from regwatch.nlp.langid import detect
from regwatch.nlp.text import scrub_surrogates

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
        [sys.executable, "-m", "regwatch.cli", "flag", "-"],
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
        [sys.executable, "-m", "regwatch.cli", "flag", str(tmp_path / "none.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_hostile_lines_each_get_one_answer(tmp_path: Path) -> None:
    raw = (
        b'\xef\xbb\xbf{"id": 1, "text": "\xd0\xb7\xd0\xb0\xd0\xba\xd0\xbe\xd0\xbd\xd0\xbe'
        b'\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb5\xd0\xba\xd1\x82 AI law"}\n'
        b'{"id": NaN, "text": "x"}\n'
        b'{"id": 1' + b"1" * 5000 + b', "text": "x"}\n'
        b'{"id": "\\ud800", "text": "draft law on AI"}\n'
        b"\xff\xfe not utf-8\n"
        b'{"id": 6, "text": "ok"}\n'
    )
    path = tmp_path / "in.jsonl"
    path.write_bytes(raw)
    proc = subprocess.run(
        [sys.executable, "-m", "regwatch.cli", "flag", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 6
    assert rows[0]["id"] == 1
    assert [r.get("line") for r in rows[1:3]] == [2, 3]
    assert rows[3]["id"] == "\ufffd" and rows[3]["signals"]
    assert rows[4]["line"] == 5 and rows[5]["id"] == 6


def test_lone_surrogates_are_scrubbed_once_with_the_same_answer(flagger: Flagger) -> None:
    """Title and text reach the Flagger as they were read (it scrubs lone surrogates itself);
    the output is the plain path's: everything scrubbed first, the language detected on the
    scrubbed text when the line gives none."""
    items: list[dict[str, Any]] = [
        {"id": 1, "title": "Draft\ud800 law", "text": "Мажилис\udfff одобрил законопроект об ИИ."},
        {"id": 2, "lang": "en", "text": "\ud83d The draft law on AI\udc00 was approved."},
        {"id": 3, "title": "\ud800", "text": "Tajikistan proposed a regional AI Center\ud800."},
        {"id": 4, "text": "Вазирлик\ud800 сунъий интеллект тўғрисидаги қонун лойиҳасини."},
    ]
    lines = [json.dumps(item) for item in items]
    out = list(flag_lines(lines, flagger))
    for item, got in zip(items, out, strict=True):
        title, text = scrub_surrogates(item.get("title", "")), scrub_surrogates(item["text"])
        lang = item.get("lang") or detect(f"{title}\n{text}")
        signals = [match_json(m) for m in flagger.flag(title, text, lang)]
        assert got == {"id": item["id"], "lang": lang, "signals": signals}
    assert all(o["signals"] for o in out)
    assert "\ufffd" in out[0]["signals"][0]["sentence"] + out[1]["signals"][0]["sentence"]
