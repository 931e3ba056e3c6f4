"""`firebell alerts [--since 1h]`: the notifications Alertmanager and Grafana sent, in
the terminal, newest first, each with what it did (the incident it went to, or why
none)."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.cli import REFUSED, settings_from_environment
from bot.integrations import alertmanager, grafana
from bot.integrations.errors import PayloadError
from bot.integrations.model import Notification
from bot.logs import printable
from bot.offline import configured, read
from bot.store.alert_notifications import notifications_since
from bot.store.db import db_now
from bot.store.tables import AlertNotification

PARSERS = {"alertmanager": alertmanager.parse, "grafana": grafana.parse}
HEADERS = ("received (UTC)", "source", "status", "group", "alerts", "outcome")
GROUP_WIDTH = 40  # a group key is often long ({}/{...}:{alertname="...", ...})
ALERTS_WIDTH = 48


def alerts_command(args: argparse.Namespace) -> int:
    """Print the notifications of the last `args.since`; an exit status."""
    settings = settings_from_environment()
    if configured("alerts", settings) is None:
        return REFUSED
    since: timedelta = args.since

    def listed(session: Session) -> tuple[datetime, Sequence[tuple[AlertNotification, int | None]]]:
        now = db_now(session)
        return now, notifications_since(session, since=now - since)

    now, rows = read(settings, listed)
    print(alerts_table(rows, since=now - since, now=now))
    return 0


def alerts_table(
    rows: Sequence[tuple[AlertNotification, int | None]], *, since: datetime, now: datetime
) -> str:
    """The notifications as a table, with a heading naming the period."""
    period = f"{_when(since)} to {_when(now)} UTC"
    if not rows:
        return f"No alert notifications from {period}."
    lines = [tuple(HEADERS)] + [_row(notification, number) for notification, number in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    rendered = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    count = len(rows)
    heading = f"{count} alert notification{'s' if count != 1 else ''} from {period}, newest first"
    return "\n".join([heading, "", *rendered])


def _row(notification: AlertNotification, number: int | None) -> tuple[str, ...]:
    """One table row of a kept notification."""
    parsed = _parsed(notification.source, notification.body)
    status = parsed.status if parsed else str(notification.body.get("status", "?"))
    return (
        _when(notification.received_at),
        notification.source,
        printable(status, 10),
        _short(printable(notification.group_key, 500), GROUP_WIDTH),
        _short(_alerts(parsed), ALERTS_WIDTH),
        _outcome(notification, number),
    )


def _parsed(source: str, body: Mapping[str, Any]) -> Notification | None:
    """The kept body read again (it was read when it came in; None if it cannot be)."""
    parser = PARSERS.get(source)
    try:
        return parser(body) if parser else None
    except PayloadError:
        return None


def _alerts(notification: Notification | None) -> str:
    """`3 alerts: HighLatency x2, DiskFull`, counting the ones Alertmanager left out."""
    if notification is None:
        return "?"
    names = Counter(printable(alert.name, 60) for alert in notification.alerts)
    listed = ", ".join(name if n == 1 else f"{name} x{n}" for name, n in names.items())
    total = len(notification.alerts) + notification.truncated
    counted = f"{total} alert{'s' if total != 1 else ''}"
    return f"{counted}: {listed}" if listed else counted


def _outcome(notification: AlertNotification, number: int | None) -> str:
    """What the notification did: `opened INC-7`, or the outcome and its reason."""
    outcome = notification.outcome or "pending"
    if number is not None:
        return f"{outcome} INC-{number}"
    reason = printable(notification.reason, 120)
    return f"{outcome}: {reason}" if reason else outcome


def _when(at: datetime) -> str:
    """A time as the table shows it (UTC, to the second)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _short(text: str, width: int) -> str:
    """`text`, cut to `width` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"
