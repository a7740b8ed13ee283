"""Prometheus metrics for one bot process, and the heartbeats `/readyz` reads.

Two kinds of series:

- Counted here, per process, as things happen: updates by handler and outcome, their
  handling time, Telegram API errors by method and code, the notifier's messages by
  outcome. Add them up across processes (`sum`).
- Read from the database at each scrape (`refresh`): conversations started, completed
  and kept, refunds by status, the outbox backlog and the age of its oldest pending
  message, the agents' queue (open tickets). They describe the shared database, so every
  process reports the same values: aggregate them with `max`, not `sum`.

The registry belongs to this object (built once in `bot.wiring.build_deps`), never to
the module, so two bots in one process (the tests) keep separate counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.channels.notifier import BatchReport, Outcome
from storage.enums import CaseStatus, RefundStatus
from storage.repositories import LiveCounts

UPDATE_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Telemetry:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "cancelbot_updates",
            "Telegram updates handled, by handler (module.function) and outcome",
            ["handler", "outcome"],
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            "cancelbot_update_handling_seconds",
            "Time from receiving an update to the end of its handling",
            buckets=UPDATE_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "cancelbot_telegram_api_errors",
            "Failed Bot API calls, by method and code (400, 403, 429, 5xx, network...)",
            ["method", "code"],
            registry=self.registry,
        )
        self.notifier_messages = Counter(
            "cancelbot_notifier_messages",
            "Outbox messages the notifier settled, by outcome (rate of sent = send rate)",
            ["outcome"],
            registry=self.registry,
        )
        self._database = _DatabaseCollector(self)
        self.registry.register(self._database)
        self._polled_at: float | None = None
        self._notifier_at: float | None = None

    # -- counted as it happens -------------------------------------------------------------

    def update_handled(self, handler: str, outcome: str, seconds: float) -> None:
        self.updates.labels(handler, outcome).inc()
        self.update_seconds.observe(seconds)

    def telegram_error(self, method: str, code: str) -> None:
        self.telegram_errors.labels(method, code).inc()

    def polled(self) -> None:
        """getUpdates answered: long polling is alive."""
        self._polled_at = self._monotonic()

    def notifier_batch(self, report: BatchReport) -> None:
        """The notifier finished a batch (empty ones too): its heartbeat, and its counts."""
        self._notifier_at = self._monotonic()
        for outcome in Outcome:
            if report.outcomes[outcome]:
                self.notifier_messages.labels(outcome.value).inc(report.outcomes[outcome])
        if report.coalesced:
            self.notifier_messages.labels("coalesced").inc(report.coalesced)

    def polling_age(self) -> float | None:
        """Seconds since getUpdates last answered; None when this process does not poll."""
        return None if self._polled_at is None else self._monotonic() - self._polled_at

    def notifier_age(self) -> float | None:
        """Seconds since the notifier's last batch; None when it does not run here."""
        return None if self._notifier_at is None else self._monotonic() - self._notifier_at

    # -- read from the database ------------------------------------------------------------

    def database_counts(self, counts: LiveCounts | None, now: datetime) -> None:
        """What the next exposition reports from the database; None: it did not answer."""
        self._database.counts, self._database.now = counts, now

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _DatabaseCollector(Collector):
    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry
        self.counts: LiveCounts | None = None
        self.now: datetime | None = None

    def describe(self) -> Iterator[Metric]:
        return iter(())  # the families depend on what the last refresh read

    def collect(self) -> Iterator[Metric]:
        yield _gauge(
            "cancelbot_database_up",
            "1 when the last scrape read the database",
            int(self.counts is not None),
        )
        for name, age in (
            ("cancelbot_polling_heartbeat_age_seconds", self._telemetry.polling_age()),
            ("cancelbot_notifier_heartbeat_age_seconds", self._telemetry.notifier_age()),
        ):
            if age is not None:
                yield _gauge(name, "Seconds since the loop last reported in", age)
        counts = self.counts
        if counts is None:
            return
        cases = counts.cases_by_status
        started = sum(cases.values())
        for name, help_text, value in (
            ("cancelbot_flows_started", "Cancellation conversations customers started", started),
            (
                "cancelbot_flows_completed",
                "Conversations that ended with a confirmed request",
                cases.get(CaseStatus.CONFIRMED.value, 0),
            ),
            (
                "cancelbot_flows_kept",
                "Conversations that ended with an alternative accepted (order kept)",
                cases.get(CaseStatus.SAVED.value, 0),
            ),
        ):
            family = CounterMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family
        refunds = GaugeMetricFamily("cancelbot_refunds", "Refunds by status now", labels=["status"])
        for status in RefundStatus:
            refunds.add_metric([status.value], counts.refunds_by_status.get(status.value, 0))
        yield refunds
        yield _gauge(
            "cancelbot_outbox_pending", "Messages waiting in the outbox", counts.outbox_pending
        )
        oldest = counts.outbox_oldest_pending
        age = 0.0 if oldest is None or self.now is None else (self.now - oldest).total_seconds()
        yield _gauge(
            "cancelbot_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message (0 when none)",
            max(0.0, age),
        )
        yield _gauge(
            "cancelbot_agent_queue_length",
            "Requests waiting for a person (open tickets)",
            counts.open_tickets,
        )


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)
