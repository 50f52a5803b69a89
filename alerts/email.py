"""Email: build a multipart text + HTML message whose headers crawled text cannot break, and
send stored messages over SMTP (STARTTLS, SSL or plain on a local relay).

Header values made from crawled text go through :func:`header_text`: every line-break and
control character is removed *before* Python's ``email`` sees the value, and encoded-word
openers (``=?``) are defused, because ``email`` lets an encoded-word CRLF through into the
serialized header (CVE-2024-6923).
"""

from __future__ import annotations

import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from regwatch.errors import DeliveryError

__all__ = ["MailServer", "build_message", "header_text", "send_mail"]

SUBJECT_LIMIT = 180
# Everything str.splitlines() breaks on, plus the rest of the C0/C1 controls and DEL.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_text(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """``value`` made safe for one header line: no CR/LF or other controls, no encoded-word
    syntax, whitespace collapsed, at most ``limit`` characters."""
    value = unicodedata.normalize("NFC", value)
    value = _BREAKS.sub(" ", value)
    value = value.replace("=?", "= ?").replace("?=", "? =")
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


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
    msg = EmailMessage(policy=SMTP)
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


def send_mail(server: MailServer, sender: str, recipients: list[str], message: bytes) -> list[str]:
    """Send one stored message; return the recipients the server refused when it accepted
    the others (the message is sent: retrying would double it for them). Raise DeliveryError
    naming the server and what went wrong when nothing was accepted."""
    where = f"smtp {server.host}:{server.port}"
    context = ssl.create_default_context(cafile=server.ca_file or None)
    try:
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
