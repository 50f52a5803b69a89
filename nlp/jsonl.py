"""The ``regwatch flag`` contract: JSON Lines in, exactly one JSON line out per input line.

In:  {"id", "text", optional "title", "lang", "url"}
Out: {"id", "lang", "signals": [{"category", "rule", "field", "text", "start", "end",
      "sentence", "score", "reason", "countries", "bodies", "attributes"}]}
A line that cannot be read yields {"line": N, "error": "…"} and the rest go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from nlp.flag import Flagger, Match
from nlp.langid import detect

__all__ = ["flag_lines", "match_json"]

Parsed = tuple[int, dict[str, Any] | None, str | None]  # line number, item or error


def match_json(m: Match) -> dict[str, Any]:
    return {
        "category": m.category,
        "rule": m.rule,
        "field": m.field,
        "text": m.text,
        "start": m.start,
        "end": m.end,
        "sentence": m.sentence,
        "score": m.score,
        "reason": m.reason,
        "countries": list(m.countries),
        "bodies": list(m.bodies),
        "attributes": dict(m.attributes),
    }


def _parse(n: int, line: str) -> Parsed:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return n, None, f"not JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return n, None, "not JSON: nested too deeply"
    if not isinstance(item, dict):
        return n, None, "expected a JSON object with id and text"
    if "id" not in item or not isinstance(item.get("text"), str):
        return n, None, 'needs "id" and a string "text"'
    for key in ("title", "lang", "url"):
        if key in item and not isinstance(item[key], str | None):
            return n, None, f'"{key}" must be a string'
    return n, item, None


def _flag_one(flagger: Flagger, item: dict[str, Any]) -> dict[str, Any]:
    title, text = item.get("title") or "", item["text"]
    lang = item.get("lang") or detect(f"{title}\n{text}")
    matches = flagger.flag(title, text, lang)
    return {"id": item["id"], "lang": lang, "signals": [match_json(m) for m in matches]}


_WORKER: Flagger | None = None


def _init_worker(rules_dir: str | None, min_score: float) -> None:
    global _WORKER
    _WORKER = Flagger.from_folder(rules_dir, min_score=min_score)


def _work(item: dict[str, Any]) -> dict[str, Any]:
    assert _WORKER is not None
    return _flag_one(_WORKER, item)


def flag_lines(
    lines: Iterable[str],
    flagger: Flagger,
    *,
    workers: int = 1,
    rules_dir: str | None = None,
    chunk: int = 64,
) -> Iterator[dict[str, Any]]:
    """One output object per input line, in order. With ``workers`` > 1, processes that each
    build their own Flagger flag the documents and send back only the signals."""
    parsed = (_parse(n, line.rstrip("\r\n")) for n, line in enumerate(lines, 1))
    if workers <= 1:
        for n, item, error in parsed:
            yield {"line": n, "error": error} if item is None else _flag_one(flagger, item)
        return
    with ProcessPoolExecutor(
        workers, initializer=_init_worker, initargs=(rules_dir, flagger.min_score)
    ) as pool:
        batch: list[Parsed] = []
        for entry in parsed:
            batch.append(entry)
            if len(batch) >= chunk * workers:
                yield from _run_batch(pool, batch, chunk)
                batch = []
        yield from _run_batch(pool, batch, chunk)


def _run_batch(
    pool: ProcessPoolExecutor, batch: list[Parsed], chunk: int
) -> Iterator[dict[str, Any]]:
    items = [item for _n, item, _e in batch if item is not None]
    results = iter(pool.map(_work, items, chunksize=max(1, chunk // 4)))
    for n, item, error in batch:
        yield {"line": n, "error": error} if item is None else next(results)
