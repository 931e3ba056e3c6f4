"""`firebell report`: response metrics over all incidents and per group, as a table or JSON.

Columns follow an incident's life: time to detect, acknowledge, mitigate and resolve,
then the customer impact; each as median, p90 and mean over the incidents that have it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.reports.metrics import (
    Moments,
    Summary,
    area_of,
    customer_impact,
    escalation_steps,
    grouped,
    iso_week,
    moments_of,
    service_of,
    severity_of,
    share_of_deadlines_met,
    summarise,
    time_to_acknowledge,
    time_to_detect,
    time_to_mitigate,
    time_to_resolve,
)

if TYPE_CHECKING:
    from bot.store.tables import Incident

# The groupings after the `all` row, in the order they are printed.
GROUPINGS: dict[str, Callable[[Moments], str]] = {
    "severity": severity_of,
    "area": area_of,
    "service": service_of,
    "week": iso_week,
}
_DURATIONS = {
    "detect": time_to_detect,
    "acknowledge": time_to_acknowledge,
    "mitigate": time_to_mitigate,
    "resolve": time_to_resolve,
    "impact": customer_impact,
}
# Each duration's name in the table's header.
_COLUMNS = {
    "detect": "detect",
    "acknowledge": "ack",
    "mitigate": "mitigate",
    "resolve": "resolve",
    "impact": "impact",
}
_STATS = {"median": "med", "p90": "p90", "mean": "mean"}


@dataclass(frozen=True)
class Row:
    """The metrics of one group of incidents (`group` `all` has the key `all`)."""

    group: str
    key: str
    incidents: int
    detect: Summary
    acknowledge: Summary
    mitigate: Summary
    resolve: Summary
    impact: Summary
    deadlines_met: float | None
    escalation_steps: int


def _row(group: str, key: str, moments: Sequence[Moments], *, now: datetime) -> Row:
    summaries = {name: summarise(fn(m) for m in moments) for name, fn in _DURATIONS.items()}
    return Row(
        group=group,
        key=key,
        incidents=len(moments),
        deadlines_met=share_of_deadlines_met(moments, now=now),
        escalation_steps=sum(escalation_steps(m) for m in moments),
        **summaries,
    )


def report_rows(incidents: Iterable[Incident], *, since: datetime, now: datetime) -> list[Row]:
    """The `all` row, then one row per severity, area, service and ISO week.

    Only incidents declared at or after `since` count.
    """
    moments = [m for m in map(moments_of, incidents) if m.declared_at >= since]
    rows = [_row("all", "all", moments, now=now)]
    for group, key in GROUPINGS.items():
        rows += [_row(group, k, ms, now=now) for k, ms in grouped(moments, key).items()]
    return rows


def format_span(value: timedelta | None) -> str:
    """A duration for people, two units at most: `45s`, `7m05s`, `1h05m`, `2d03h`."""
    if value is None:
        return "-"
    seconds = round(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


_HEADER = [
    "group",
    "key",
    "n",
    *(f"{column} {stat}" for column in _COLUMNS.values() for stat in _STATS.values()),
    "deadline met",
    "escalations",
]


def as_table(rows: Sequence[Row]) -> str:
    """An aligned plain-text table: one line per row, durations like `1h05m`."""
    lines = [_HEADER]
    for row in rows:
        spans = [
            format_span(getattr(getattr(row, name), stat)) for name in _COLUMNS for stat in _STATS
        ]
        lines.append(
            [
                row.group,
                row.key,
                str(row.incidents),
                *spans,
                _share(row.deadlines_met),
                str(row.escalation_steps),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(_HEADER))]
    # Names left-aligned, numbers right-aligned, so columns of durations line up.
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "median": _seconds(summary.median),
        "p90": _seconds(summary.p90),
        "mean": _seconds(summary.mean),
    }


def as_json(rows: Sequence[Row], *, since: datetime, now: datetime) -> dict[str, Any]:
    """The rows as JSON-ready data: durations in seconds, the deadline share 0.0-1.0."""
    return {
        "since": since.isoformat(),
        "now": now.isoformat(),
        "rows": [
            {
                "group": row.group,
                "key": row.key,
                "incidents": row.incidents,
                **{name: _summary_json(getattr(row, name)) for name in _DURATIONS},
                "deadlines_met": row.deadlines_met,
                "escalation_steps": row.escalation_steps,
            }
            for row in rows
        ],
    }
