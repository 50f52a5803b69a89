"""Subjects in the six languages of the region, of real length, sent to a real SMTP server on
127.0.0.1 and read back from the bytes it received by three decoders: ``email.policy.default``,
``email.header.decode_header`` + ``make_header``, and a small RFC 2047 decoder written here that
shares no code with ``email``. Each must give back exactly the intended subject."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest

from regwatch.alerts.channels import Content, EmailChannel
from regwatch.alerts.email import MailServer, header_text, visible_length
from tests.alerts.conftest import SmtpServer, subscription

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

# Team-written headlines of the length real ones have, each behind a section title as an alert
# carries it, with Latin, digits or quotes mixed in. (A long ASCII run before the first
# non-ASCII word is what made policy.SMTP's folder split each word into its own encoded word.)
TITLES = {
    "ru": "Казахстан принял участие в консультациях по созданию регионального центра ИИ",
    "ru-quotes": "Профильный комитет одобрил законопроект «Об искусственном интеллекте» и "
    '"AI Act" во 2-м чтении',
    "en": "Kyrgyz Lawmakers Advance AI Bill Framed Around Digital Security (2026)",
    "kk": "Қазақстан Үкіметі жасанды интеллект туралы заң жобасын 2026 жылы мақұлдады",
    "uz-latn": "Oʻzbekiston sunʼiy intellekt toʻgʻrisidagi qonun loyihasini 2-oʻqishda maʼqulladi",
    "uz-cyrl": "Ўзбекистон Олий Мажлиси сунъий интеллект тўғрисидаги қонун лойиҳасини "
    "муҳокама қилди",
    "tg": "Маҷлиси намояндагон лоиҳаи Қонун «Дар бораи амнияти рақамӣ»-ро дар хониши аввал "
    "қабул кард",
    "ky": "«Жасалма интеллект жөнүндө» мыйзам долбоору биринчи окууда кабыл алынды",
    "mixed": 'AI-стратегия "2030": Қазақстан, Oʻzbekiston, Тоҷикистон va Кыргызстан x=1 100%',
}
SECTIONS = (
    "Dushanbe AI Center and Tajikistan's AI corporation",
    "Draft laws, decrees and concepts",
    "Surveillance and biometrics",
)
SUBJECTS = {
    f"{lang}/{n}": f"[regwatch] {section}: {title}"
    for lang, title in TITLES.items()
    for n, section in enumerate(SECTIONS)
}

_ENCODED_WORD = re.compile(r"=\?([^?]+)\?([bBqQ])\?([^?]*)\?=")


def rfc2047(raw: str) -> str:
    """An independent RFC 2047 decoder: unfold, decode each encoded word, and drop only the
    whitespace that stands between two encoded words."""
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", raw)
    out: list[str] = []
    last_end, last_was_word = 0, False
    for m in _ENCODED_WORD.finditer(unfolded):
        between = unfolded[last_end : m.start()]
        if not (last_was_word and between.strip(" \t") == ""):
            out.append(between)
        charset, kind, text = m.group(1), m.group(2).lower(), m.group(3)
        if kind == "b":
            data = base64.b64decode(text, validate=True)
        else:
            data = binascii.a2b_qp(text.replace("_", " "), header=True)
        out.append(data.decode(charset))
        last_end, last_was_word = m.end(), True
    out.append(unfolded[last_end:])
    return "".join(out)


def _raw_subject(data: bytes) -> str:
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    m = re.search(r"^Subject: (.*?)\r\n(?![ \t])", head + "\r\n", re.S | re.M)
    assert m, head
    return m.group(1)


@pytest.fixture
def sent(smtp: SmtpServer) -> dict[str, bytes]:
    """Every subject, rendered by the email channel and sent to the real server."""
    cfg = smtp.config()
    server = MailServer(cfg.host, cfg.port, "none", "", None, "", 5.0)
    channel = EmailChannel(server, cfg.sender)
    sub = subscription(recipients=("analyst@example.org",))
    for n, subject in enumerate(SUBJECTS.values()):
        payload = channel.render(sub, Content(subject, "текст", "<p>текст</p>"), f"<t{n}@x>", NOW)
        channel.send("analyst@example.org", payload)
    assert len(smtp.inbox.messages) == len(SUBJECTS)
    return dict(zip(SUBJECTS, (m.data for m in smtp.inbox.messages), strict=True))


@pytest.mark.parametrize("lang", list(SUBJECTS))
def test_subject_decodes_exactly_three_ways(sent: dict[str, bytes], lang: str) -> None:
    data, intended = sent[lang], header_text(SUBJECTS[lang])  # cut when past 150 visible
    assert 60 <= visible_length(intended) <= 150
    head = data.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), head.decode()
    assert message_from_bytes(data, policy=policy.default)["Subject"] == intended
    compat = str(message_from_bytes(data, policy=policy.compat32)["Subject"])
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", compat)  # RFC 5322 2.2.3, before decoding
    assert str(make_header(decode_header(unfolded))) == intended
    assert rfc2047(_raw_subject(data)) == intended


def test_the_independent_decoder_catches_the_old_folding() -> None:
    """The space policy.SMTP's folder moved between two encoded words: this decoder (like
    every mail client) drops it, so the tests above would fail on the old output."""
    old = "=?utf-8?b?0JrQsNC30LDRhdGB0YLQsNC9?=\r\n  =?utf-8?b?0JrQsNC30LDRhdGB0YLQsNC9?="
    assert rfc2047(old) == "КазахстанКазахстан"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\u202eevil\u202c b", "aevil b"),
        ("x\u2066y\u2067z\u2068w\u2069 v\u202a\u202b\u202d", "xyzw v"),
        ("\u202e\r\nBcc: x@evil.example", "Bcc: x@evil.example"),
    ],
)
def test_bidi_overrides_are_stripped(raw: str, expected: str) -> None:
    assert header_text(raw) == expected


def test_long_subject_is_cut_at_a_word() -> None:
    words = ("законопроект", "об", "искусственном", "интеллекте", "Oʻzbekiston", "2030")
    long = " ".join(words[n % len(words)] for n in range(60))
    out = header_text(long)
    assert visible_length(out) <= 150 and out.endswith("…")
    assert out[:-1].rstrip() in long and long[len(out) - 1] == " ", "cut between two words"
    # combining marks are not counted: 150 visible letters with an accent each fit
    accented = "е\u0301" * 150
    assert header_text(accented) == accented


def test_one_long_word_is_cut_inside_it() -> None:
    out = header_text("x" * 400)
    assert out == "x" * 149 + "…"
