"""Prometheus metrics from real poll summaries and outbox reports, scraped over HTTP."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx

from regwatch.alerts.outbox import DispatchReport
from regwatch.metrics import Metrics
from regwatch.pipeline import RunSummary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_polls_and_deliveries_are_counted_and_served() -> None:
    metrics = Metrics()
    ok = RunSummary(sources_ok=1, items_seen=3, signals_new=2)
    ok.outcomes["new"] = 2
    ok.outcomes["unchanged"] = 1
    metrics.poll("kz-gov", ok, 1_700_000_000.0)
    failed = RunSummary(sources_failed=1, errors={"kg-cabinet": "HTTP 404"})
    metrics.poll("kg-cabinet", failed, 1_700_000_100.0)
    metrics.poll("kg-cabinet", failed, 1_700_000_200.0)
    waiting = RunSummary(not_due={"uz-lex": datetime(2026, 11, 27, tzinfo=UTC)})
    metrics.poll("uz-lex", waiting, 1_700_000_300.0)
    metrics.dispatch(DispatchReport(alerts_queued=2, digests_queued=1, sent=3, retrying=1))

    port = _free_port()
    metrics.serve("127.0.0.1", port)
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    expected = [
        'regwatch_polls_total{result="ok",source="kz-gov"} 1.0',
        'regwatch_polls_total{result="failed",source="kg-cabinet"} 2.0',
        'regwatch_polls_total{result="not_due",source="uz-lex"} 1.0',
        'regwatch_documents_total{outcome="new",source="kz-gov"} 2.0',
        'regwatch_signals_total{source="kz-gov"} 2.0',
        'regwatch_source_failures_in_a_row{source="kg-cabinet"} 2.0',
        'regwatch_source_last_success_timestamp_seconds{source="kz-gov"} 1.7e+09',
        'regwatch_queued_total{kind="alert"} 2.0',
        'regwatch_deliveries_total{result="sent"} 3.0',
        'regwatch_deliveries_total{result="retrying"} 1.0',
    ]
    missing = [line for line in expected if line not in body]
    assert not missing, body
