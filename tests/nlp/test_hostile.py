"""Hostile text: huge documents, deep punctuation, odd Unicode — no crash, bounded memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from regwatch.nlp import Flagger

SIGNAL = "Мажилис рассматривает законопроект об искусственном интеллекте."


def test_two_million_characters_in_one_paragraph(flagger: Flagger) -> None:
    filler = "Погода в Астане солнечная, ветер слабый. " * 50_000
    text = filler[: 2_000_000 - len(SIGNAL) - 1] + " " + SIGNAL
    assert len(text) >= 2_000_000
    [match] = [m for m in flagger.flag("", text) if m.category == "draft_instrument"]
    assert text[match.start : match.end] == "законопроект"


def test_memory_stays_bounded_on_a_huge_repetitive_document() -> None:
    """In a fresh process: 2 million characters of one phrase, full pass (every unit through
    spaCy, no E088), evidence capped per rule; peak memory well below what one Doc of the
    whole text would take."""
    code = textwrap.dedent("""
        import resource
        from regwatch.nlp import Flagger
        f = Flagger.from_folder()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        text = ("Законопроект об ИИ обсуждают. " * 70_000)[:2_000_000]
        found = f.flag("", text, prefilter=False)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(found), (peak - base) // 1024)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    ).stdout.split()
    signals, grown_mb = int(out[0]), int(out[1])
    assert 0 < signals <= 100 * len(Flagger.from_folder().rules.rules)
    assert grown_mb < 500, grown_mb


@pytest.mark.parametrize(
    "text",
    [
        "(" * 100_000 + "законопроект об ИИ" + ")" * 100_000,
        "!?." * 50_000,
        "\u200b\u200d\u2066\u202e" * 10_000 + " digital security law AI",
        "законопроект\u0301 об ИИ 👩‍💻🇰🇿" * 1000,
        "\ud800 законопроект об ИИ \udfff",
        "İİİ ǅ ß ﬁ законопроект об ИИ",
        "",
        " \n \n\t\n",
    ],
)
def test_odd_text_does_not_crash(flagger: Flagger, text: str) -> None:
    for m in flagger.flag(text[:300], text):
        value = text[:300] if m.field == "title" else text
        assert value[m.start : m.end] == m.text
