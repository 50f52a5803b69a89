"""`regwatch instruments list|show|export|link|unlink|merge|unmerge` on a real SQLite store fed
through `regwatch import` (the one ingest path): tracker fields in text, JSON and CSV, and the
corrections, each reversible, with errors that say what to give instead."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from regwatch.cli import main

DOCS = [
    {"url": "https://kz.example/ru/1", "title": "Законопроект об искусственном интеллекте",
     "text": "Министерство вынесло проект закона об искусственном интеллекте на общественное "
             "обсуждение. Общественное обсуждение продлится до 4 декабря 2026 года.",
     "source": "kz-news", "country": "kz", "published": "2026-11-20T09:00:00+00:00"},
    {"url": "https://kz.example/kk/1", "title": "Жасанды интеллект туралы заң жобасы",
     "text": "Министрлік жасанды интеллект туралы заң жобасын қоғамдық талқылауға шығарды.",
     "source": "kz-news", "country": "kz", "published": "2026-11-21T09:00:00+00:00"},
    {"url": "https://uz.example/1", "title": "Sun'iy intellekt to'g'risidagi qonun loyihasi",
     "text": "Vazirlik sun'iy intellekt to'g'risidagi qonun loyihasini muhokamaga qo'ydi.",
     "source": "uz-news", "country": "uz", "published": "2026-11-21T09:00:00+00:00"},
]  # fmt: skip


def test_instruments_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGWATCH_DATABASE_URL", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS), "utf-8")
    run = ["--config", str(cfg), "instruments"]
    assert main(["--config", str(cfg), "import", str(src)]) == 0
    capsys.readouterr()

    assert main([*run, "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_country = {r["jurisdiction"]: r for r in rows}
    kz, uz = by_country["kz"], by_country["uz"]
    assert (kz["type"], kz["stage"], kz["consultation_end"], kz["documents"]) == (
        "law", "public_discussion", "2026-12-04", 2)  # fmt: skip
    assert "draft_instrument" in kz["themes"] and uz["documents"] == 1
    assert (kz["subject"], kz["label"]) == ("ai", "Law on artificial intelligence")
    assert main([*run, "list", "--country", "uz"]) == 0
    assert f"{uz['id']:>5}  uz" in capsys.readouterr().out

    assert main([*run, "show", str(kz["id"])]) == 0
    shown = capsys.readouterr().out
    assert "Public discussion" in shown and "same title key law|ai (kz) as document" in shown
    assert main([*run, "show", str(kz["id"]), "--format", "json"]) == 0
    detail = json.loads(capsys.readouterr().out)
    docs = [link["document_id"] for link in detail["links"]]
    assert len(docs) == 2 and {t["lang"] for t in detail["titles"]} == {"ru", "kk"}

    out = tmp_path / "tracker.csv"
    assert main([*run, "export", "--out", str(out)]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert {r["jurisdiction"] for r in table} == {"kz", "uz"}
    kz_row = next(r for r in table if r["jurisdiction"] == "kz")
    assert (kz_row["type"], kz_row["stage_label"], kz_row["consultation_end"]) == (
        "law", "Public discussion", "2026-12-04")  # fmt: skip
    assert main([*run, "export", "--format", "json", "--country", "kz"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [kz["id"]]

    # corrections: unlink (kept, never relinked), link by hand, merge and unmerge
    assert main([*run, "unlink", str(docs[1]), str(kz["id"])]) == 0
    assert f"document {docs[1]} unlinked" in capsys.readouterr().out
    assert main([*run, "unlink", str(docs[1]), str(kz["id"])]) == 2
    assert "is not linked" in capsys.readouterr().err
    assert main([*run, "link", str(docs[1]), str(kz["id"]), "--note", "same draft"]) == 0
    capsys.readouterr()
    assert main([*run, "merge", str(kz["id"]), str(uz["id"])]) == 0
    assert "unmerge" in capsys.readouterr().out
    assert main([*run, "list", "--format", "json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [kz["id"]]
    assert main([*run, "unmerge", str(uz["id"])]) == 0
    capsys.readouterr()
    assert main([*run, "list", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2

    assert main([*run, "show", "9999"]) == 2
    assert "no instrument 9999" in capsys.readouterr().err
    assert main([*run, "list", "--stage", "nonsense"]) == 2
    assert "not a stage" in capsys.readouterr().err
