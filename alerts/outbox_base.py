"""What the outbox's queueing and sending share: its configuration, a subscription's
webhooks, the report of a cycle and the error that is not retried."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from regwatch.alerts.push import Webhook, webhooks_of
from regwatch.config import DeliveryConfig, DigestConfig, SmtpConfig, SubscriptionConfig
from regwatch.errors import DeliveryError

EMAIL = "email"


@dataclass
class DispatchReport:
    alerts_queued: int = 0
    digests_queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"outbox: {self.alerts_queued} alerts and {self.digests_queued} digests queued; "
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"
        )


class PermanentError(DeliveryError):
    """Retrying cannot help (the subscription or channel is gone)."""

    prefix = "not retried: "

    def __init__(self, message: str) -> None:
        super().__init__(self.prefix + message)


class OutboxBase:
    """The outbox's configuration and state; :class:`alerts.outbox.Outbox` adds the rest."""

    def __init__(
        self,
        engine: Engine,
        *,
        subscriptions: Iterable[SubscriptionConfig],
        smtp: SmtpConfig,
        delivery: DeliveryConfig,
        digest: DigestConfig,
        allow_private_networks: bool = False,
        sources: Collection[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.subscriptions = {s.name: s for s in subscriptions}
        self.smtp = smtp
        self.delivery = delivery
        self.digest = digest
        self.allow_private = allow_private_networks
        self.sources = sources
        self.env = os.environ if env is None else env
        self.domain = smtp.sender.rpartition("@")[2] or "localhost"
        # A claim older than this belongs to a sender that died mid-send: it outlasts the
        # longest conversation smtplib can have (each step waits at most smtp.timeout:
        # connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, one RCPT per recipient, DATA, the body).
        most = max((len(s.recipients) for s in self.subscriptions.values()), default=1)
        self.stale_claim = timedelta(seconds=smtp.timeout * (10 + most) + 5)

    def _hooks(self, sub: SubscriptionConfig) -> list[Webhook]:
        return webhooks_of(sub.webhooks, sub.webhook_env, self.env)
