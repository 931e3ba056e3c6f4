"""`GET /metrics`: the bot's own SLIs in Prometheus text format.

Gauges read from the database, counters kept by this process. While the database is
away the counters are still served, with `firebell_database_up 0` instead of the
gauges: an outage is something to alert on, not a scrape error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.store.tables import Incident, OutboxMessage, TimelineEntry


def database_metrics(session: Session) -> list[str]:
    """Gauges read from the database (the same from every replica)."""
    pending = session.execute(
        select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.done).is_(False))
    ).scalar_one()
    failed = session.execute(
        select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.failed).is_(True))
    ).scalar_one()
    undelivered = session.execute(
        select(func.count())
        .select_from(TimelineEntry)
        .where(col(TimelineEntry.kind) == "page_undelivered")
    ).scalar_one()
    by_state = session.execute(
        select(col(Incident.state), func.count()).group_by(Incident.state)
    ).all()
    return [
        "# HELP firebell_outbox_pending Outbox rows waiting to be delivered.",
        "# TYPE firebell_outbox_pending gauge",
        f"firebell_outbox_pending {pending}",
        "# HELP firebell_outbox_failed Outbox rows given up on.",
        "# TYPE firebell_outbox_failed gauge",
        f"firebell_outbox_failed {failed}",
        "# HELP firebell_pages_undelivered Pages given up on (refused, or moot by an ack).",
        "# TYPE firebell_pages_undelivered gauge",
        f"firebell_pages_undelivered {undelivered}",
        "# HELP firebell_incidents Incidents by state.",
        "# TYPE firebell_incidents gauge",
        *(f'firebell_incidents{{state="{state}"}} {count}' for state, count in by_state),
    ]


def render_metrics(gauges: list[str] | None, *, worker: Any) -> str:
    """The exposition: the database's `gauges` (None: the database is away) and this
    process's delivery counters."""
    lines = [
        "# HELP firebell_database_up Whether this process reached its database just now.",
        "# TYPE firebell_database_up gauge",
        f"firebell_database_up {0 if gauges is None else 1}",
        *(gauges or []),
    ]
    if worker is not None:
        stats = worker.stats
        lines += [
            "# HELP firebell_deliveries_total Outbox rows this process delivered, by result.",
            "# TYPE firebell_deliveries_total counter",
            f'firebell_deliveries_total{{result="sent"}} {stats.sent}',
            f'firebell_deliveries_total{{result="retried"}} {stats.retried}',
            f'firebell_deliveries_total{{result="paced"}} {stats.paced}',
            f'firebell_deliveries_total{{result="failed"}} {stats.failed}',
            f'firebell_deliveries_total{{result="lost"}} {stats.lost}',
        ]
    return "\n".join(lines) + "\n"
