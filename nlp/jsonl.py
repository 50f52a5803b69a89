"""The ``regwatch flag`` contract: JSON Lines in, exactly one JSON line out per input line.

In:  {"id", "text", optional "title", "lang", "url"}
Out: {"id", "lang", "signals": [{"category", "rule", "field", "text", "start", "end",
      "sentence", "score", "reason", "countries", "bodies", "attributes"}]}
A line that cannot be read yields {"line": N, "error": "…"} and the rest go on.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, BinaryIO

from regwatch.nlp.flag import Flagger, Match
from regwatch.nlp.langid import detect
from regwatch.nlp.learned import DEFAULT_MODEL
from regwatch.nlp.text import scrub_surrogates as _scrub

__all__ = ["dump_line", "flag_lines", "match_json", "read_lines"]

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


# built once: ``json.loads``/``json.dumps`` with any keyword argument build a new decoder or
# encoder on every call, which cost more than decoding a 2 KB line itself
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _decode(line: str) -> Any:
    """``json.loads(line, parse_constant=_no_constant)``, with its test for a byte-order mark."""
    if line.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
    return _DECODER.decode(line)


def dump_line(out: dict[str, Any]) -> str:
    """One output object as its JSON line (newline included): UTF-8 text as it is, never
    NaN — ``json.dumps(out, ensure_ascii=False, allow_nan=False) + "\n"``."""
    return _ENCODE(out) + "\n"


def _parse(n: int, line: str) -> Parsed:
    try:
        item = _decode(line)
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
        title, text = item.get("title") or "", item["text"]
        # Flagger.flag scrubs lone surrogates from title and text itself: only detection,
        # when the line gives no language, needs them scrubbed here
        lang = _scrub(item.get("lang") or "") or detect(f"{_scrub(title)}\n{_scrub(text)}")
        matches = flagger.flag(title, text, lang)
        doc_id = _scrub(item["id"]) if isinstance(item["id"], str) else item["id"]
        return {"id": doc_id, "lang": lang, "signals": [match_json(m) for m in matches]}
    except Exception as exc:
        return {"line": n, "error": f"could not flag: {type(exc).__name__}: {exc}"}


_WORKER: Flagger | None = None


def _init_worker(rules_dir: str | None, min_score: float, model: str | None) -> None:
    global _WORKER
    if _WORKER is None:  # not inherited from the parent (a "spawn" or "forkserver" start)
        _WORKER = Flagger.from_folder(rules_dir, min_score=min_score, model=model)


def _flag_line(flagger: Flagger, n: int, line: str) -> dict[str, Any]:
    n, item, error = _parse(n, line.rstrip("\r\n"))
    return {"line": n, "error": error} if item is None else _flag_one(flagger, item, n)


def _work(block: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """In a worker: parse and flag a block of lines (the parent only reads and writes)."""
    assert _WORKER is not None
    return [_flag_line(_WORKER, n, line) for n, line in block]


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
    model: str | None = str(DEFAULT_MODEL),
    chunk: int = 64,
) -> Iterator[dict[str, Any]]:
    """One output object per input line, in order. With ``workers`` > 1, worker processes
    parse and flag blocks of ``chunk`` lines and send back only the output objects (signals,
    never Docs). Forked workers inherit ``flagger`` (building one takes about a second);
    others build their own from ``rules_dir`` and ``model`` (the learned stage's file, or None)."""
    if workers <= 1:
        for n, line in enumerate(lines, 1):
            yield _flag_line(flagger, n, line)
        return
    global _WORKER
    _WORKER = flagger  # forked workers start with this one instead of building their own
    try:
        with ProcessPoolExecutor(
            workers, initializer=_init_worker, initargs=(rules_dir, flagger.min_score, model)
        ) as pool:
            # blocks of lines go out as they are read; two per worker are in flight, so
            # workers never wait for the parent and memory stays bounded; results in order
            pending: deque[Future[list[dict[str, Any]]]] = deque()
            numbered = enumerate(lines, 1)
            while block := list(islice(numbered, chunk)):
                pending.append(pool.submit(_work, block))
                if len(pending) > 2 * workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
    finally:
        _WORKER = None
