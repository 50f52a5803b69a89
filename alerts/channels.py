"""Delivery channels — email and webhooks — as objects, built once where the outbox is built
and found again by name.

A channel holds everything about one way of delivering: which of a subscription's messages it
carries (``serves``), whom a row is for (``target``), the payload that will be sent (``render``,
when the row is queued), how to send a stored payload within its own deadline (``send``), and
which failures retrying cannot help: it raises :class:`~regwatch.errors.PermanentError` for
those and :class:`~regwatch.errors.DeliveryError` for the rest. The outbox queues and sends
through :class:`Channels` without knowing which kinds of channel exist.

:func:`build_channels` runs at the edge (``commands/``, the demo): it is the one place that
looks up secrets — the SMTP password and webhook URLs — in the environment it is handed, by
the variable names config gives; the channels receive the values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from regwatch.alerts.email import MailServer, build_message, send_mail
from regwatch.alerts.push import Webhook, env_label, push
from regwatch.config import SmtpConfig, SubscriptionConfig
from regwatch.errors import DeliveryError, PermanentError

__all__ = [
    "Channel",
    "Channels",
    "Content",
    "EmailChannel",
    "Kind",
    "WebhookChannel",
    "build_channels",
]

Kind = Literal["digest", "alert"]


@dataclass(frozen=True)
class Content:
    """What a digest or an alert says, rendered once, before any channel renders it."""

    subject: str
    text: str
    html: str


class Channel(Protocol):
    """One way of delivering. ``name`` is stored in ``deliveries.channel``: stable, no secrets."""

    name: str

    def serves(self, sub: SubscriptionConfig, kind: Kind) -> bool:
        """Whether ``sub`` gets its messages of ``kind`` through this channel."""
        ...

    def target(self, sub: SubscriptionConfig) -> str:
        """Whom ``sub``'s row is for, as stored and shown (no secrets)."""
        ...

    def render(
        self, sub: SubscriptionConfig, content: Content, message_id: str, now: datetime
    ) -> str:
        """The payload, exactly as it will be sent (and sent again after a crash)."""
        ...

    def send(self, target: str, payload: str) -> str | None:
        """Send a stored payload; return a note when it went out only in part. Raise
        PermanentError when retrying cannot help, DeliveryError when it may."""
        ...

    def longest_send(self) -> float:
        """The seconds one send can last at most: a claim older than that is a dead sender's."""
        ...


class EmailChannel:
    """Email over SMTP to a subscription's recipients: its digests and, unless
    ``alert_email`` is off, its alerts."""

    def __init__(self, server: MailServer, sender: str, *, most_recipients: int = 1) -> None:
        self.name = "email"
        self.server = server
        self.sender = sender
        self.most_recipients = most_recipients

    def serves(self, sub: SubscriptionConfig, kind: Kind) -> bool:
        return bool(sub.recipients) and (kind == "digest" or sub.alert_email)

    def target(self, sub: SubscriptionConfig) -> str:
        return ", ".join(sub.recipients)

    def render(
        self, sub: SubscriptionConfig, content: Content, message_id: str, now: datetime
    ) -> str:
        return build_message(
            sender=self.sender,
            recipients=list(sub.recipients),
            subject=content.subject,
            text=content.text,
            html=content.html,
            message_id=message_id,
            date=now,
        ).decode("ascii")

    def send(self, target: str, payload: str) -> str | None:
        if not self.server.host:
            raise PermanentError("smtp.host is empty; set [smtp] to send email")
        recipients = [r.strip() for r in target.split(",") if r.strip()]
        refused = send_mail(self.server, self.sender, recipients, payload.encode())
        return f"refused by the server: {', '.join(refused)}" if refused else None

    def longest_send(self) -> float:
        # Each step of the conversation waits at most the timeout: connect, EHLO, STARTTLS,
        # EHLO, AUTH, MAIL, one RCPT per recipient, DATA, the body.
        return self.server.timeout * (10 + self.most_recipients)


class WebhookChannel:
    """A push notification through Apprise: a subscription's immediate alerts (a digest is
    too long for a chat message; it goes by email)."""

    def __init__(self, hook: Webhook, *, allow_networks: tuple[str, ...], timeout: float) -> None:
        self.name = hook.label
        self.hook = hook
        self.allow_networks = allow_networks
        self.timeout = timeout

    def serves(self, sub: SubscriptionConfig, kind: Kind) -> bool:
        return kind == "alert"

    def target(self, sub: SubscriptionConfig) -> str:
        return self.hook.shown

    def render(
        self, sub: SubscriptionConfig, content: Content, message_id: str, now: datetime
    ) -> str:
        return json.dumps({"title": content.subject, "body": content.text}, ensure_ascii=False)

    def send(self, target: str, payload: str) -> str | None:
        message = json.loads(payload)
        push(
            self.hook,
            message["title"],
            message["body"],
            allow_networks=self.allow_networks,
            timeout=self.timeout,
        )
        return None

    def longest_send(self) -> float:
        return self.timeout * 3  # resolving the host, connecting, reading the answer


class Channels:
    """The registry: one configuration's channels by name, and the channels each subscription
    uses, in the order configured. A channel that could not be built (its variable is unset)
    keeps its name and its reason, so its rows wait instead of failing for good."""

    def __init__(self, message_domain: str = "localhost") -> None:
        self.message_domain = message_domain  # of every Message-ID: the sender's domain
        self._by_name: dict[str, Channel] = {}
        self._uses: dict[str, list[str]] = {}
        self._broken: dict[str, str] = {}

    def register(self, channel: Channel) -> str:
        """Add ``channel`` under its name (once: a webhook two subscriptions share is one)."""
        self._by_name.setdefault(channel.name, channel)
        return channel.name

    def use(self, subscription: str, name: str) -> None:
        """``subscription`` delivers through the channel ``name``."""
        uses = self._uses.setdefault(subscription, [])
        if name not in uses:
            uses.append(name)

    def unavailable(self, subscription: str, name: str, reason: str) -> None:
        """``subscription`` uses the channel ``name``, which cannot be built now, for ``reason``."""
        self._broken[name] = reason
        self.use(subscription, name)

    def of(self, sub: SubscriptionConfig, kind: Kind) -> list[Channel]:
        """The channels that carry ``sub``'s messages of ``kind``."""
        found = (self._by_name.get(name) for name in self._uses.get(sub.name, ()))
        return [c for c in found if c is not None and c.serves(sub, kind)]

    def problems(self, sub: SubscriptionConfig) -> list[str]:
        """Why some of ``sub``'s channels cannot work now."""
        return [self._broken[n] for n in self._uses.get(sub.name, ()) if n in self._broken]

    def find(self, subscription: str, name: str, target: str) -> Channel:
        """The channel a queued row goes through, as configured now. PermanentError when the
        subscription or the channel is gone; DeliveryError when the channel cannot work now."""
        uses = self._uses.get(subscription)
        if uses is None:
            raise PermanentError(f"subscription {subscription!r} is no longer configured")
        if name not in uses:
            raise PermanentError(f"{target} is no longer configured for {subscription}")
        channel = self._by_name.get(name)
        if channel is None:
            raise DeliveryError(self._broken[name])
        return channel

    def longest_send(self) -> float:
        """The longest any send through these channels can last, in seconds."""
        return max((c.longest_send() for c in self._by_name.values()), default=0.0)


def build_channels(
    subscriptions: Iterable[SubscriptionConfig],
    smtp: SmtpConfig,
    *,
    webhook_timeout: float,
    allow_networks: tuple[str, ...],
    env: Mapping[str, str],
) -> Channels:
    """Every channel the subscriptions use, built once where the outbox is built.

    ``env`` is where the variables config names are looked up (the edge hands over
    ``os.environ``); only the values reach the channels. ``webhook_timeout`` bounds each step
    of a webhook request (``fetch.timeout``: regwatch's deadline for an HTTP request)."""
    subs = list(subscriptions)
    password = env.get(smtp.password_env) if smtp.password_env else None
    server = MailServer(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=password,
        ca_file=smtp.ca_file,
        timeout=smtp.timeout,
    )
    most = max((len(s.recipients) for s in subs), default=1)
    channels = Channels(smtp.sender.rpartition("@")[2] or "localhost")
    email = channels.register(EmailChannel(server, smtp.sender, most_recipients=most))

    def webhook(hook: Webhook) -> str:
        return channels.register(
            WebhookChannel(hook, allow_networks=allow_networks, timeout=webhook_timeout)
        )

    for sub in subs:
        channels.use(sub.name, email)  # whether it serves the subscription is email's call
        for url in sub.webhooks:
            channels.use(sub.name, webhook(Webhook.of_url(url)))
        for name in sub.webhook_env:
            if url := env.get(name, ""):
                channels.use(sub.name, webhook(Webhook.of_env(name, url)))
            else:
                channels.unavailable(
                    sub.name,
                    env_label(name),
                    f"push: environment variable {name} is empty or not set; "
                    f"export {name}=<Apprise URL> before starting regwatch",
                )
    return channels
