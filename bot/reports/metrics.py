"""Response metrics over an incident's moments: pure functions, time is an argument.

The response durations run from the declaration: MTTA to the acknowledgement, time to
mitigate to the mitigation, MTTR to the resolution. An incident resolved without a
separate mitigation was mitigated when it was resolved (the impact ended then at the
latest), so fixing a problem outright never drops it from the time to mitigate.

Two run from the impact's start, which only some incidents know (an alert's first
firing, or `/incident impact start`): the time to detect, to when the problem was
noticed (an alert, or the declaration by a person), and the customer impact, to the
impact's end (the mitigation when no end was said, else the resolution). Without an
impact start they are `None`, and the aggregates leave such incidents out rather than
count them as instant.

The deadline that counts is the one in force (`Incident.response_deadline`): re-planned
with each severity change until the incident is acknowledged, kept after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.tables import Incident

NO_SERVICE = "(none)"


@dataclass(frozen=True)
class Moments:
    """What the metrics read from one incident."""

    severity: str
    area: str
    service: str | None
    declared_at: datetime
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    response_deadline: datetime | None = None
    escalation_level: int = 1
    impact_started_at: datetime | None = None
    impact_ended_at: datetime | None = None
    detected_at: datetime | None = None


@dataclass(frozen=True)
class DeadlineOutcome:
    """Whether the response deadline was met, and by how much (always >= 0)."""

    met: bool
    by: timedelta


@dataclass(frozen=True)
class Summary:
    """Count, median, p90 and mean of some durations (`None` when there are none)."""

    count: int
    median: timedelta | None
    p90: timedelta | None
    mean: timedelta | None


Metric = Callable[[Moments], timedelta | None]


def moments_of(incident: Incident) -> Moments:
    """The moments of a stored incident."""
    return Moments(
        severity=incident.severity,
        area=incident.area,
        service=incident.service,
        declared_at=incident.declared_at,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        response_deadline=incident.response_deadline,
        escalation_level=incident.escalation_level,
        impact_started_at=incident.impact_started_at,
        impact_ended_at=incident.impact_ended_at,
        detected_at=incident.detected_at,
    )


def _since_declared(moments: Moments, at: datetime | None) -> timedelta | None:
    return None if at is None else at - moments.declared_at


def time_to_acknowledge(moments: Moments) -> timedelta | None:
    """MTTA's term: declaration to acknowledgement; `None` while unacknowledged."""
    return _since_declared(moments, moments.acknowledged_at)


def time_to_mitigate(moments: Moments) -> timedelta | None:
    """Declaration to mitigation (the resolution when never mitigated apart)."""
    return _since_declared(moments, moments.mitigated_at or moments.resolved_at)


def time_to_resolve(moments: Moments) -> timedelta | None:
    """MTTR's term: declaration to resolution; `None` while unresolved."""
    return _since_declared(moments, moments.resolved_at)


def _since_impact(moments: Moments, at: datetime | None) -> timedelta | None:
    start = moments.impact_started_at
    if start is None or at is None:
        return None
    # A moment before the impact began (noticed a risk before customers felt it): none.
    return max(at - start, timedelta(0))


def time_to_detect(moments: Moments) -> timedelta | None:
    """Impact start to detection; `None` without an impact start. An incident without a
    detection moment (declared before firebell kept one) was detected when declared."""
    return _since_impact(moments, moments.detected_at or moments.declared_at)


def customer_impact(moments: Moments) -> timedelta | None:
    """Impact start to impact end (the mitigation when no end was set, else the
    resolution); `None` without an impact start, or while the impact lasts."""
    end = moments.impact_ended_at or moments.mitigated_at or moments.resolved_at
    return _since_impact(moments, end)


def escalation_steps(moments: Moments) -> int:
    """How many times the incident was escalated past its first level."""
    return max(moments.escalation_level - 1, 0)


def deadline_outcome(moments: Moments, *, now: datetime) -> DeadlineOutcome | None:
    """Met or missed, and by how much; `None` without a deadline or while it can still be met.

    An incident never acknowledged has missed its deadline once `now` is past it, by
    the time since the deadline.
    """
    deadline = moments.response_deadline
    if deadline is None:
        return None
    if moments.acknowledged_at is None:
        if now <= deadline:
            return None
        return DeadlineOutcome(met=False, by=now - deadline)
    if moments.acknowledged_at <= deadline:
        return DeadlineOutcome(met=True, by=deadline - moments.acknowledged_at)
    return DeadlineOutcome(met=False, by=moments.acknowledged_at - deadline)


def share_of_deadlines_met(moments: Iterable[Moments], *, now: datetime) -> float | None:
    """Met deadlines over decided ones (0.0-1.0); `None` when none is decided yet."""
    outcomes = [o for m in moments if (o := deadline_outcome(m, now=now)) is not None]
    if not outcomes:
        return None
    return sum(o.met for o in outcomes) / len(outcomes)


def summarise(values: Iterable[timedelta | None]) -> Summary:
    """Count, median, p90 and mean of the values that are not `None`.

    The median of an even count is the mean of the two middle values. The p90 is by
    nearest rank: the smallest value with at least 90% of the values at or below it
    (the `ceil(0.9 * n)`-th smallest), so it is always a duration that happened.
    """
    known = sorted(v for v in values if v is not None)
    if not known:
        return Summary(count=0, median=None, p90=None, mean=None)
    seconds = [v.total_seconds() for v in known]
    return Summary(
        count=len(known),
        median=timedelta(seconds=median(seconds)),
        p90=known[math.ceil(0.9 * len(known)) - 1],
        mean=timedelta(seconds=sum(seconds) / len(seconds)),
    )


def iso_week(moments: Moments) -> str:
    """The ISO week (UTC) the incident was declared in, e.g. `2026-W48`."""
    year, week, _ = moments.declared_at.isocalendar()
    return f"{year}-W{week:02d}"


def severity_of(moments: Moments) -> str:
    """The incident's severity, as a group key."""
    return moments.severity


def area_of(moments: Moments) -> str:
    """The incident's area, as a group key."""
    return moments.area


def service_of(moments: Moments) -> str:
    """The incident's service, as a group key (`(none)` without one)."""
    return moments.service or NO_SERVICE


def grouped(moments: Iterable[Moments], key: Callable[[Moments], str]) -> dict[str, list[Moments]]:
    """The moments by `key`, keys sorted."""
    groups: dict[str, list[Moments]] = {}
    for m in moments:
        groups.setdefault(key(m), []).append(m)
    return dict(sorted(groups.items()))
