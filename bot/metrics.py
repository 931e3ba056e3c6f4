"""`GET /metrics`: firebell's own SLIs, exposed with `prometheus_client`.

`Metrics()` builds one registry per app (`create_app`): several apps share a test
process, so nothing is registered at import time nor in the client's global registry.
The counters and histograms are moved by the edges that see the event (Slack's
endpoint, the Web API client, the delivery worker, the deadline clock, the alert
hooks). The gauges read from the database are a custom collector, read at scrape time
(`exposition`, in a worker thread), one query each; while the database is away they
are left out and `firebell_database_up` is 0: an outage is something to alert on, not
a scrape error. docs/metrics.md lists every metric.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from bot.store.db import Store, db_now
from bot.store.outage import is_unreachable
from bot.store.tables import Incident, OutboxMessage, TimelineEntry

# Exposition format 0.0.4, the one every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds. Deadlines are polled every few seconds; a late one is minutes late.
LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
DELIVERY_RESULTS = ("sent", "retried", "paced", "failed", "lost")


class Metrics:
    """The registry of one app and the instruments the edges move."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.slack_requests = Histogram(
            "firebell_slack_request_duration_seconds",
            "Time to handle a request Slack sent to /slack/events, by kind.",
            ["kind"],
            registry=registry,
        )
        self.api_call_duration = Histogram(
            "firebell_slack_api_call_duration_seconds",
            "Time a Slack Web API call took, by method.",
            ["method"],
            registry=registry,
        )
        self.api_calls = Counter(
            "firebell_slack_api_calls",
            "Slack Web API calls by method and result (ok, error, ratelimited, failed).",
            ["method", "result"],
            registry=registry,
        )
        self.deliveries = Counter(
            "firebell_deliveries",
            "Outbox rows this process delivered, by result.",
            ["result"],
            registry=registry,
        )
        for result in DELIVERY_RESULTS:
            self.deliveries.labels(result)
        self.lateness = Histogram(
            "firebell_deadline_lateness_seconds",
            "How long after it was due a deadline fired, by kind.",
            ["kind"],
            buckets=LATENESS_BUCKETS,
            registry=registry,
        )
        self.escalations = Counter(
            "firebell_escalations",
            "Escalation deadlines fired (the next step of an unacknowledged page).",
            registry=registry,
        )
        self.alert_notifications = Counter(
            "firebell_alert_notifications",
            "Alert notifications received and kept, by source and outcome.",
            ["source", "outcome"],
            registry=registry,
        )
        self.hook_unauthenticated = Counter(
            "firebell_hook_unauthenticated",
            "Calls of /hooks/* refused before the caller proved who it is (kept out of "
            "the audit trail), by hook and status.",
            ["hook", "status"],
            registry=registry,
        )
        self.webhook_deliveries = Counter(
            "firebell_webhook_deliveries",
            "Outbound webhook deliveries (rollbacks) by kind and result.",
            ["kind", "result"],
            registry=registry,
        )
        self.feedback_events = Counter(
            "firebell_feedback_events",
            "Failure cases kept from /hooks/feedback, by service and kind (a repeated ref "
            "is not counted again).",
            ["service", "kind"],
            registry=registry,
        )
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

    def watch_database(self, store: Store) -> None:
        """Serve the gauges read from `store`'s database at each scrape."""
        self.registry.register(DatabaseCollector(store))

    async def exposition(self) -> bytes:
        """The text exposition, read in a worker thread (the database's gauges block)."""
        return await asyncio.to_thread(generate_latest, self.registry)


@dataclass(frozen=True)
class DatabaseFacts:
    """What the gauges show, as read in one transaction."""

    now: datetime
    pending: int
    failed: int
    oldest_pending: datetime | None
    undelivered_pages: int
    incidents: list[tuple[str, str, int]]  # severity, state, how many


def read_database(session: Session) -> DatabaseFacts:
    """The gauges' facts: one query for the outbox, one for pages, one for incidents."""
    outbox = session.execute(
        select(
            func.count(case((col(OutboxMessage.done).is_(False), 1))),
            func.count(case((col(OutboxMessage.failed).is_(True), 1))),
            func.min(case((col(OutboxMessage.done).is_(False), OutboxMessage.created_at))),
        ).select_from(OutboxMessage)
    ).one()
    undelivered = session.execute(
        select(func.count())
        .select_from(TimelineEntry)
        .where(col(TimelineEntry.kind) == "page_undelivered")
    ).scalar_one()
    incidents = session.execute(
        select(col(Incident.severity), col(Incident.state), func.count()).group_by(
            Incident.severity, Incident.state
        )
    ).all()
    oldest = outbox[2]
    if isinstance(oldest, str):  # SQLite's MIN over a CASE loses the column's type
        oldest = datetime.fromisoformat(oldest)
    return DatabaseFacts(
        now=db_now(session),
        pending=int(outbox[0]),
        failed=int(outbox[1]),
        oldest_pending=oldest,
        undelivered_pages=int(undelivered),
        incidents=[(str(s), str(t), int(n)) for s, t, n in incidents],
    )


def database_families(facts: DatabaseFacts | None) -> list[Metric]:
    """The gauges for `facts` (None: the database is away, only `database_up` 0)."""
    up = GaugeMetricFamily(
        "firebell_database_up", "Whether this process reached its database just now."
    )
    up.add_metric([], 0 if facts is None else 1)
    if facts is None:
        return [up]
    oldest = facts.oldest_pending
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=facts.now.tzinfo)
    age = 0.0 if oldest is None else max((facts.now - oldest).total_seconds(), 0.0)
    incidents = GaugeMetricFamily(
        "firebell_incidents", "Incidents by severity and state.", labels=["severity", "state"]
    )
    for severity, state, count in facts.incidents:
        incidents.add_metric([severity, state], count)
    return [
        up,
        GaugeMetricFamily(
            "firebell_outbox_pending", "Outbox rows waiting to be delivered.", facts.pending
        ),
        GaugeMetricFamily(
            "firebell_outbox_oldest_age_seconds",
            "Age of the oldest outbox row waiting to be delivered (0: none waits).",
            age,
        ),
        GaugeMetricFamily("firebell_outbox_failed", "Outbox rows given up on.", facts.failed),
        GaugeMetricFamily(
            "firebell_pages_undelivered",
            "Pages given up on (refused, or moot by an ack).",
            facts.undelivered_pages,
        ),
        incidents,
    ]


class DatabaseCollector(Collector):
    """The database's gauges, read when scraped (blocking: call from a worker thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        try:
            facts: DatabaseFacts | None = self.store.call(read_database)
        except Exception as err:
            if not is_unreachable(err):
                raise
            facts = None  # delivery's and the clock's loops log the outage
        yield from database_families(facts)

    def describe(self) -> Iterator[Metric]:
        """Nothing at registration: describing must not read the database."""
        return iter(())
