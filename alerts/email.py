"""Email: build a multipart text + HTML message whose headers crawled text cannot break, and
send stored messages over SMTP (STARTTLS, SSL or plain on a local relay).

Header values made from crawled text go through :func:`header_text`: every line-break,
control character and bidi override is removed *before* Python's ``email`` sees the value, and
encoded-word openers (``=?``) are defused, because ``email`` lets an encoded-word CRLF through
into the serialized header (CVE-2024-6923).

A non-ASCII Subject is encoded by :class:`email.header.Header`, not folded by ``policy.SMTP``:
that folder (every CPython 3.6–3.13) moves the space between two encoded words out into the
folding whitespace, where decoders drop it ("Казахстан Казахстан" arrives as one word), and can
leave an encoded word broken mid-line. ``Header`` keeps every space inside an encoded word and
splits at character boundaries, each line within 78 characters.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from functools import cached_property

from regwatch.errors import DeliveryError

__all__ = ["MailServer", "build_message", "header_text", "send_mail", "visible_length"]

SUBJECT_LIMIT = 150  # visible characters
# Everything str.splitlines() breaks on, plus the rest of the C0/C1 controls and DEL.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Bidi embeddings and overrides (U+202A–202E) and isolates (U+2066–2069): a crawled title
# could otherwise reorder the rest of the subject line as a mail client shows it.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]+")


def visible_length(value: str) -> int:
    """Characters a reader sees: combining marks ride on the letter before them."""
    return sum(1 for c in value if not unicodedata.combining(c))


def header_text(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """``value`` made safe for one header line: no CR/LF or other controls, no bidi
    overrides, no encoded-word syntax, whitespace collapsed, at most ``limit`` visible
    characters — cut at a word, with "…"."""
    value = unicodedata.normalize("NFC", value)
    value = _BIDI.sub("", _BREAKS.sub(" ", value))
    value = value.replace("=?", "= ?").replace("?=", "? =")
    value = " ".join(value.split())
    if visible_length(value) <= limit:
        return value
    cut, seen = 0, 0
    for at, c in enumerate(value):  # the longest prefix with limit - 1 visible characters
        seen += not unicodedata.combining(c)
        if seen > limit - 1:
            break
        cut = at + 1
    head = value[:cut]
    if not value[cut].isspace() and " " in head:
        word_start = head.rindex(" ")
        if word_start >= cut // 2:  # cut at a word unless the word is half the subject
            head = head[:word_start]
    return head.rstrip(" ,;:-–—") + "…"


class _MailPolicy(EmailPolicy):
    """policy.SMTP, but a non-ASCII Subject is written by email.header.Header (see above)."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            encoded = Header(str(value), "utf-8", header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}"
        folded: str = super().fold(name, value)
        return folded


_POLICY = _MailPolicy(linesep="\r\n")


def build_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
) -> bytes:
    """The whole message, 7-bit clean, exactly as it will be sent (and re-sent)."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = header_text(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg.as_bytes()


@dataclass(frozen=True)
class MailServer:
    """Where and how to send; plain values taken from ``[smtp]``."""

    host: str
    port: int
    security: str  # starttls | ssl | none
    username: str
    password: str | None
    ca_file: str
    timeout: float

    @cached_property
    def context(self) -> ssl.SSLContext | None:
        """The TLS context, built once per server (loading the CAs costs ~40 ms of CPU);
        none for ``security = "none"``."""
        if self.security == "none":
            return None
        return ssl.create_default_context(cafile=self.ca_file or None)


def send_mail(server: MailServer, sender: str, recipients: list[str], message: bytes) -> list[str]:
    """Send one stored message; return the recipients the server refused when it accepted
    the others (the message is sent: retrying would double it for them). Raise DeliveryError
    naming the server and what went wrong when nothing was accepted."""
    where = f"smtp {server.host}:{server.port}"
    try:
        context = server.context
        client: smtplib.SMTP
        if server.security == "ssl":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=server.timeout, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        with client:
            client.ehlo()
            if server.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if server.username:
                if server.password is None:
                    raise DeliveryError(
                        f"{where}: smtp.username is set but smtp.password_env names no "
                        "variable that is set; export the password before starting regwatch"
                    )
                client.login(server.username, server.password)
            refused = client.sendmail(sender, recipients, message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"{where}: every recipient was refused: {exc.recipients}") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"{where}: login as {server.username!r} refused ({exc.smtp_code}); "
            "check smtp.username and the password variable"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"{where}: {exc}; check smtp.security (starttls, ssl or none)"
        ) from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"{where}: {exc.__class__.__name__}: {exc}") from None
    return sorted(refused)
