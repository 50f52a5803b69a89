"""Email building and sending against real SMTP servers on 127.0.0.1 (plain, STARTTLS, SSL)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from regwatch.alerts.email import MailServer, build_message, header_text, send_mail
from regwatch.errors import DeliveryError
from tests.alerts.conftest import PASSWORD, USER, SmtpServer

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Plain title", "Plain title"),
        ("a\r\nBcc: x@evil.example", "a Bcc: x@evil.example"),
        ("a\nb\rc\x00d\x0be\x0cf\x1cg\x85h\u2028i\u2029j", "a b c d e f g h i j"),
        ("=?utf-8?q?=0D=0ABcc:_x@evil.example?=", "= ?utf-8?q? =0D=0ABcc:_x@evil.example? ="),
        ("  lots   of\t\tspace  ", "lots of space"),
        ("Законопроект «О цифровой безопасности»", "Законопроект «О цифровой безопасности»"),
    ],
)
def test_header_text(raw: str, expected: str) -> None:
    assert header_text(raw) == expected


def test_header_text_caps_length() -> None:
    out = header_text("слово " * 100)
    assert len(out) <= 180 and out.endswith("…")


def _message(subject: str) -> bytes:
    return build_message(
        sender="regwatch@watch.example.org",
        recipients=["a@example.org", "b@example.org"],
        subject=subject,
        text="текст",
        html="<p>текст</p>",
        message_id="<regwatch.test.1@watch.example.org>",
        date=NOW,
    )


def test_message_is_seven_bit_and_headers_are_exactly_ours() -> None:
    data = _message("Обзор =?utf-8?q?=0D=0ABcc:_x@evil.example?=\r\nX-Evil: 1")
    data.decode("ascii")  # 7-bit clean: quoted-printable bodies, encoded-word subject
    msg = message_from_bytes(data, policy=policy.default)
    assert sorted(msg.keys()) == sorted(
        [
            "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
            "MIME-Version", "Content-Type",
        ]
    )  # fmt: skip
    assert msg["Subject"] == "Обзор = ?utf-8?q? =0D=0ABcc:_x@evil.example? = X-Evil: 1"
    assert msg["To"] == "a@example.org, b@example.org"


def test_plain_relay(smtp: SmtpServer) -> None:
    cfg = smtp.config()
    server = MailServer(cfg.host, cfg.port, "none", "", None, "", 5.0)
    assert send_mail(server, cfg.sender, ["a@example.org"], _message("hi")) == []
    [got] = smtp.inbox.messages
    assert got.rcpt_tos == ["a@example.org"] and got.mail_from == cfg.sender


def test_tls_with_login(smtp_tls: SmtpServer) -> None:
    server = MailServer(
        "127.0.0.1", smtp_tls.port, smtp_tls.security, USER, PASSWORD, smtp_tls.ca_file, 5.0
    )
    send_mail(server, "regwatch@watch.example.org", ["a@example.org"], _message("tls"))
    [got] = smtp_tls.inbox.messages
    assert message_from_bytes(got.data, policy=policy.default)["Subject"] == "tls"


def test_tls_wrong_password_is_a_clear_error(smtp_tls: SmtpServer) -> None:
    server = MailServer(
        "127.0.0.1", smtp_tls.port, smtp_tls.security, USER, "nope", smtp_tls.ca_file, 5.0
    )
    with pytest.raises(DeliveryError, match=r"login as 'regwatch' refused \(535\)"):
        send_mail(server, "regwatch@watch.example.org", ["a@example.org"], _message("x"))
    assert smtp_tls.inbox.messages == []


def test_tls_server_not_trusted_without_its_ca(smtp_tls: SmtpServer) -> None:
    server = MailServer("127.0.0.1", smtp_tls.port, smtp_tls.security, USER, PASSWORD, "", 5.0)
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        send_mail(server, "regwatch@watch.example.org", ["a@example.org"], _message("x"))


def test_login_without_password_variable(smtp_tls: SmtpServer) -> None:
    server = MailServer(
        "127.0.0.1", smtp_tls.port, smtp_tls.security, USER, None, smtp_tls.ca_file, 5.0
    )
    with pytest.raises(DeliveryError, match="password_env"):
        send_mail(server, "regwatch@watch.example.org", ["a@example.org"], _message("x"))


def test_starttls_against_a_plain_server_names_the_setting(smtp: SmtpServer) -> None:
    server = MailServer("127.0.0.1", smtp.port, "starttls", "", None, "", 5.0)
    with pytest.raises(DeliveryError, match=r"smtp\.security"):
        send_mail(server, "regwatch@watch.example.org", ["a@example.org"], _message("x"))


def test_tls_context_is_built_once_per_server(smtp_tls: SmtpServer, smtp: SmtpServer) -> None:
    """Loading the CAs costs ~40 ms of CPU: one context per server, reused by every message;
    none at all for a plain relay."""
    server = MailServer(
        "127.0.0.1", smtp_tls.port, smtp_tls.security, USER, PASSWORD, smtp_tls.ca_file, 5.0
    )
    context = server.context
    assert context is not None
    for n in range(3):
        send_mail(server, "regwatch@watch.example.org", ["a@example.org"], _message(f"m{n}"))
        assert server.context is context
    assert len(smtp_tls.inbox.messages) == 3
    plain = MailServer("127.0.0.1", smtp.port, "none", "", None, "", 5.0)
    assert plain.context is None
    send_mail(plain, "regwatch@watch.example.org", ["a@example.org"], _message("plain"))
    assert len(smtp.inbox.messages) == 1
