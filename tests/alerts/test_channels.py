"""Channels as objects: the outbox queues and sends through whatever is registered by name,
each channel with its own deadline and its own rule for what is not worth retrying."""

from __future__ import annotations

import ast
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from regwatch.alerts.channels import Content, Kind, build_channels
from regwatch.alerts.outbox import Outbox
from regwatch.alerts.push import env_label
from regwatch.config import SmtpConfig, SubscriptionConfig
from regwatch.errors import DeliveryError, PermanentError
from regwatch.nlp import Flagger
from tests.alerts.conftest import (
    Receiver,
    SmtpServer,
    delivery_config,
    outbox,
    seed,
    subscription,
)

ALERTS = Path(__file__).resolve().parents[2] / "alerts"


class Recorder:
    """A channel of the test's own: what it was given, and the failure it is told to raise."""

    name = "recorder"

    def __init__(self, fail: DeliveryError | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def serves(self, sub: SubscriptionConfig, kind: Kind) -> bool:
        return kind == "alert"

    def target(self, sub: SubscriptionConfig) -> str:
        return f"the {sub.name} log"

    def render(
        self, sub: SubscriptionConfig, content: Content, message_id: str, now: datetime
    ) -> str:
        return f"{message_id} {content.subject}"

    def send(self, target: str, payload: str) -> str | None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((target, payload))
        return None

    def longest_send(self) -> float:
        return 1.0


def with_recorder(
    engine: Engine, flagger: Flagger, smtp: SmtpConfig, recorder: Recorder, **kw: Any
) -> tuple[Outbox, datetime]:
    """An outbox over one subscription (to tj's story) that also uses ``recorder``, and a
    moment when that story is fresh."""
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"], **kw)
    box = outbox(engine, smtp, sub, delivery=delivery_config(max_attempts=3))
    box.queue.channels.use(sub.name, box.queue.channels.register(recorder))
    return box, seeded.started + timedelta(hours=1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_registered_channel_is_queued_and_sent_like_email(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    recorder = Recorder()
    box, now = with_recorder(engine, flagger, smtp.config(), recorder)
    report = box.dispatch(now)
    assert report.sent == 2, report.errors
    assert len(smtp.inbox.messages) == 1
    [(target, payload)] = recorder.sent
    assert target == "the gr-team log"
    assert payload.startswith("<regwatch.alert.gr-team.s")
    assert ".recorder@watch.example.org>" in payload
    assert sorted((r.channel, r.status) for r in box.rows()) == [
        ("email", "sent"),
        ("recorder", "sent"),
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("fail", "status"),
    [
        (PermanentError("the log is gone"), "failed"),
        (DeliveryError("not retried: only in its wording"), "pending"),
    ],
)
def test_permanence_is_the_channels_call_by_class_not_by_wording(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, fail: DeliveryError, status: str
) -> None:
    box, now = with_recorder(engine, flagger, smtp.config(), Recorder(fail), alert_email=False)
    box.dispatch(now)
    [row] = box.rows()
    assert (row.channel, row.status, row.attempts, row.last_error) == (
        "recorder",
        status,
        1,
        str(fail),
    )


def test_a_permanent_error_reads_as_it_always_has() -> None:
    assert str(PermanentError("x")) == "not retried: x"  # as `alerts list` shows it
    assert isinstance(PermanentError("x"), DeliveryError)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_email_off_is_permanent_and_webhooks_go_on(
    engine: Engine, flagger: Flagger, receiver: Receiver
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"], webhooks=[f"json://127.0.0.1:{receiver.port}/x"])
    box = outbox(engine, SmtpConfig(host=""), sub)
    report = box.dispatch(seeded.started + timedelta(hours=1))
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    assert "not retried: smtp.host is empty" in report.errors[0]
    assert len(receiver.received) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_webhook_keeps_its_own_deadline(engine: Engine, flagger: Flagger) -> None:
    """A webhook that accepts the connection and never answers fails within the webhook's
    timeout, not the SMTP server's."""
    seeded = seed(engine, flagger)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        sub = subscription(
            countries=["tj"], alert_email=False, webhooks=[f"json://127.0.0.1:{port}/x"]
        )
        box = outbox(engine, SmtpConfig(host="127.0.0.1", timeout=60), sub, webhook_timeout=0.5)
        started = time.monotonic()
        report = box.dispatch(seeded.started + timedelta(hours=1))
        assert report.retrying == 1, report.errors
        assert time.monotonic() - started < 10
    # the stale claim still outlasts the longest SMTP conversation
    assert box.stale_claim == timedelta(seconds=60 * (10 + 2) + 5)


def test_an_unset_webhook_variable_costs_only_that_webhook() -> None:
    sub = subscription(webhooks=["json://hooks.example/a"], webhook_env=("UNSET", "SET"))
    channels = build_channels(
        [sub],
        SmtpConfig(host="mail.example"),
        webhook_timeout=5.0,
        allow_networks=(),
        env={"SET": "json://hooks.example/secret"},
    )
    assert [c.target(sub) for c in channels.of(sub, "alert")] == [
        "analyst@example.org, lead@example.org",
        "json://hooks.example",
        "$SET",
    ]
    [problem] = channels.problems(sub)
    assert "UNSET is empty or not set" in problem
    with pytest.raises(DeliveryError) as caught:  # its rows wait for the variable
        channels.find(sub.name, env_label("UNSET"), "$UNSET")
    assert not isinstance(caught.value, PermanentError)
    with pytest.raises(PermanentError, match="no longer configured"):
        channels.find("gone", "email", "someone@example.org")
    assert [c.name for c in channels.of(sub, "digest")] == ["email"]


def test_nothing_below_the_edge_reads_the_environment() -> None:
    for path in sorted(ALERTS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not names & {"environ", "getenv"}, path.name
