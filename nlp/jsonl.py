"""The ``regwatch flag`` contract: JSON Lines in, exactly one JSON line out per input line.

In:  {"id", "text", optional "title", "lang", "url"}
Out: {"id", "lang", "signals": [{"category", "rule", "field", "text", "start", "end",
      "sentence", "score", "reason", "countries", "bodies", "attributes"}]}
A line that cannot be read yields {"line": N, "error": "…"} and the rest go on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, BinaryIO

from nlp.flag import Flagger, Match
from nlp.langid import detect

__all__ = ["flag_lines", "match_json", "read_lines"]

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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(n: int, line: str) -> Parsed:
    try:
        item = json.loads(line, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return n, None, f"not JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return n, None, "not JSON: nested too deeply"
    except ValueError as exc:  # NaN/Infinity, integers past Python's digit limit
        return n, None, f"not JSON: {exc}"
    if not isinstance(item, dict):
        return n, None, "expected a JSON object with id and text"
    if "id" not in item or not isinstance(item.get("text"), str):
        return n, None, 'needs "id" and a string "text"'
    for key in ("title", "lang", "url"):
        if key in item and not isinstance(item[key], str | None):
            return n, None, f'"{key}" must be a string'
    return n, item, None


def _flag_one(flagger: Flagger, item: dict[str, Any], n: int = 0) -> dict[str, Any]:
    """One document's output; any failure becomes that line's error, never the stream's."""
    try:
        title, text = _scrub(item.get("title") or ""), _scrub(item["text"])
        lang = _scrub(item.get("lang") or "") or detect(f"{title}\n{text}")
        matches = flagger.flag(title, text, lang)
        doc_id = _scrub(item["id"]) if isinstance(item["id"], str) else item["id"]
        return {"id": doc_id, "lang": lang, "signals": [match_json(m) for m in matches]}
    except Exception as exc:
        return {"line": n, "error": f"could not flag: {type(exc).__name__}: {exc}"}


def _scrub(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


_WORKER: Flagger | None = None


def _init_worker(rules_dir: str | None, min_score: float) -> None:
    global _WORKER
    _WORKER = Flagger.from_folder(rules_dir, min_score=min_score)


def _work(numbered: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    assert _WORKER is not None
    return _flag_one(_WORKER, numbered[1], numbered[0])


def read_lines(stream: BinaryIO) -> Iterator[str]:
    """Lines of a byte stream, split on "\n" only, each decoded on its own (a bad byte spoils
    one line, not the stream; a UTF-8 byte-order mark is dropped)."""
    for n, raw in enumerate(stream, 1):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        yield line.removeprefix("\ufeff") if n == 1 else line


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
            yield {"line": n, "error": error} if item is None else _flag_one(flagger, item, n)
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
    items = [(n, item) for n, item, _e in batch if item is not None]
    results = iter(pool.map(_work, items, chunksize=max(1, chunk // 4)))
    for n, item, error in batch:
        yield {"line": n, "error": error} if item is None else next(results)
