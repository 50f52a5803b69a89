"""Prometheus metrics for the service (prometheus-client), served on request at
``[service] metrics_port`` on ``metrics_host`` (127.0.0.1 by default). Each poll and each
outbox cycle updates them; nothing else reads or writes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from regwatch.alerts.outbox import DispatchReport
    from regwatch.pipeline import RunSummary
    from regwatch.workers import QueueHealth

__all__ = ["Metrics"]


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "regwatch_polls", "Source polls by result (ok, failed, not_due)", ["source", "result"],
            registry=r,
        )  # fmt: skip
        self.documents = Counter(
            "regwatch_documents", "Items seen by outcome (new, updated, unchanged, duplicate)",
            ["source", "outcome"], registry=r,
        )  # fmt: skip
        self.signals = Counter("regwatch_signals", "New signals stored", ["source"], registry=r)
        self.last_success = Gauge(
            "regwatch_source_last_success_timestamp_seconds",
            "When the source last polled fine (Unix time)", ["source"], registry=r,
        )  # fmt: skip
        self.failures = Gauge(
            "regwatch_source_failures_in_a_row", "Failed polls in a row", ["source"], registry=r
        )
        self.queued = Counter(
            "regwatch_queued", "Deliveries queued by kind (alert, digest)", ["kind"], registry=r
        )
        self.deliveries = Counter(
            "regwatch_deliveries", "Delivery attempts by result (sent, retrying, failed)",
            ["result"], registry=r,
        )  # fmt: skip

    def poll(self, source: str, summary: RunSummary, when: float) -> RunSummary:
        """Count one poll of ``source``; returns the summary, to chain after collect_sources."""
        if source in summary.not_due:
            self.polls.labels(source, "not_due").inc()
            return summary
        failed = source in summary.errors
        self.polls.labels(source, "failed" if failed else "ok").inc()
        if failed:
            self.failures.labels(source).inc()
        else:
            self.failures.labels(source).set(0)
            self.last_success.labels(source).set(when)
        for outcome, n in summary.outcomes.items():
            if n:
                self.documents.labels(source, outcome).inc(n)
        if summary.signals_new:
            self.signals.labels(source).inc(summary.signals_new)
        return summary

    def dispatch(self, report: DispatchReport) -> DispatchReport:
        self.queued.labels("alert").inc(report.alerts_queued)
        self.queued.labels("digest").inc(report.digests_queued)
        for result, n in (
            ("sent", report.sent),
            ("retrying", report.retrying),
            ("failed", report.failed),
        ):
            self.deliveries.labels(result).inc(n)
        return report

    def watch_queue(self, read: Callable[[], QueueHealth | None]) -> None:
        """Export the job queue's health (``regwatch scheduler``), read at each scrape."""
        self.registry.register(_QueueCollector(read))

    def serve(self, host: str, port: int) -> None:
        """Serve /metrics on a daemon thread (prometheus-client's own server)."""
        start_http_server(port, addr=host, registry=self.registry)


class _QueueCollector(Collector):
    """Workers, queue depth by job kind, the oldest waiting job and failed jobs — the numbers
    `regwatch status` shows, read from the database when Prometheus asks."""

    def __init__(self, read: Callable[[], QueueHealth | None]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        health = self._read()
        if health is None:
            return
        alive = GaugeMetricFamily("regwatch_workers_alive", "Workers with a recent heartbeat")
        alive.add_metric([], sum(1 for w in health.workers if w["alive"]))
        yield alive
        for name, help_, values in (
            ("regwatch_queue_waiting", "Jobs due and not started, by kind", health.waiting),
            ("regwatch_queue_running", "Jobs running, by kind", health.running),
            ("regwatch_queue_failed", "Jobs failed for good, by kind", health.failed),
        ):
            family = GaugeMetricFamily(name, help_, labels=["task"])
            for task, n in sorted(values.items()):
                family.add_metric([task], n)
            yield family
        oldest = GaugeMetricFamily(
            "regwatch_queue_oldest_waiting_seconds", "Age of the oldest job due and not started"
        )
        oldest.add_metric([], health.oldest_waiting_s or 0.0)
        yield oldest
