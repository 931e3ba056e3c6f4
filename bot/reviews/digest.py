"""The facts of one week's failure review, from plain data: pure, time is an argument.

What counts where:
- the week's incidents are those *declared* in it, in the review's zone (an incident
  declared Sunday 23:30 UTC is Monday's in Berlin, so next week's there);
- a deadline missed is one `deadline_outcome` decides missed as of `now` (the review's
  moment): acknowledged late, or never acknowledged and past its deadline;
- a repeat service had more than one incident in the four weeks up to the week's end
  (this week and the three before);
- rollbacks are the week's requested ones, drills' dry runs excluded;
- follow-ups are those open now that were recorded before the week ended, aged at `now`;
- a restricted incident's words (title, follow-ups, its rollbacks' answers) are not
  carried at all: the review is posted outside its private channel, so its facts hold
  only that it is restricted (`bot.core.visibility`);
- failure cases are those reported on /hooks/feedback whose `at` is in the week
  (`bot.reviews.failures`);
- the trend compares the week with the mean of the four weeks before it: the incident
  count, the median time to acknowledge, the share of deadlines met (a week where the
  median or the share is undefined stays out of that mean).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.messages.restricted import subject_words
from bot.reports.metrics import (
    Moments,
    deadline_outcome,
    moments_of,
    share_of_deadlines_met,
    summarise,
    time_to_acknowledge,
)
from bot.reviews.failures import FailureFacts
from bot.reviews.week import Week, bounds, week_of

if TYPE_CHECKING:
    from bot.store.tables import FollowUp, Incident, Rollback

TREND_WEEKS = 4  # the trend's baseline: the mean of this many weeks before
REPEAT_WEEKS = 4  # a repeat service: more than one incident in this many weeks


@dataclass(frozen=True)
class IncidentFacts:
    """One incident of the week, as the review tells it."""

    ref: str
    title: str
    severity: str
    area: str  # the area's name as declared
    service: str | None
    state: str
    declared_at: datetime
    acknowledged_by: str | None
    deadline_met: bool | None  # None: no deadline, or not decided yet
    missed_by: timedelta | None  # how late the acknowledgement was (or is, if none yet)


@dataclass(frozen=True)
class RepeatService:
    """A service with more than one incident in the repeat window."""

    service: str
    refs: tuple[str, ...]  # oldest first
    this_week: int


@dataclass(frozen=True)
class RollbackFacts:
    """One rollback asked for during the week, and how it went."""

    service: str
    environment: str
    from_version: str | None
    to_version: str | None
    state: str  # running, succeeded, failed
    requested_by: str
    requested_at: datetime
    incident: str | None  # its incident's ref
    message: str  # the receiver's answer; "" for a restricted incident's
    restricted: bool = False  # its incident is restricted: the answer stays in its channel


@dataclass(frozen=True)
class FollowUpFacts:
    """An open follow-up, whose, and how old."""

    incident: str
    text: str  # "" for a restricted incident's
    owner: str
    created_at: datetime
    age: timedelta
    restricted: bool = False  # its incident is restricted: the text stays in its channel
    service: str | None = None  # its incident's service (the restricted line names it)


@dataclass(frozen=True)
class Trend:
    """The week against the mean of the weeks before it (`None`: nothing to compare)."""

    weeks: int  # how many weeks the baseline spans
    incidents: int
    incidents_before: float
    median_ack: timedelta | None
    median_ack_before: timedelta | None
    deadlines_met: float | None
    deadlines_met_before: float | None


@dataclass(frozen=True)
class Digest:
    """Everything one week's review says, as facts."""

    week: Week
    zone: str
    start: datetime
    end: datetime
    now: datetime
    incidents: tuple[IncidentFacts, ...]
    by_severity: Mapping[str, int]
    by_area: Mapping[str, int]
    repeats: tuple[RepeatService, ...]
    rollbacks: tuple[RollbackFacts, ...]
    followups: tuple[FollowUpFacts, ...]
    trend: Trend
    failures: FailureFacts | None = None  # None: not read (a row queued before they were)

    @property
    def missed(self) -> tuple[IncidentFacts, ...]:
        """The week's incidents whose response deadline was missed."""
        return tuple(i for i in self.incidents if i.deadline_met is False)


def window(week: Week, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the start of the earliest week a digest reads incidents of, to the week's end."""
    earliest = week.shifted(-max(TREND_WEEKS, REPEAT_WEEKS - 1))
    return bounds(earliest, zone)[0], bounds(week, zone)[1]


def weekly_digest(
    *,
    week: Week,
    zone: ZoneInfo,
    incidents: Iterable[Incident],
    rollbacks: Iterable[Rollback],
    followups: Iterable[FollowUp],
    refs: Mapping[int, str],
    now: datetime,
    restricted: Mapping[int, str | None] | None = None,
    failures: FailureFacts | None = None,
) -> Digest:
    """The review of `week` in `zone` as of `now`.

    `incidents`: those declared in `window(week, zone)` (others are ignored); `rollbacks`
    and `followups`: candidates, filtered here; `refs`: incident refs by id;
    `restricted`: the restricted incidents among those rollbacks and follow-ups name,
    by id, with their service (those in `incidents` are found there too); `failures`:
    the week's failure cases (`bot.reviews.failures`).
    """
    start, end = bounds(week, zone)
    hidden = {i.id: i.service for i in incidents if i.restricted and i.id is not None}
    hidden.update(restricted or {})
    by_week: dict[Week, list[Incident]] = {}
    for incident in sorted(incidents, key=lambda i: (i.declared_at, i.id or 0)):
        by_week.setdefault(week_of(incident.declared_at, zone), []).append(incident)
    this_week = by_week.get(week, [])
    facts = tuple(_incident_facts(i, now=now) for i in this_week)
    return Digest(
        week=week,
        zone=zone.key,
        start=start,
        end=end,
        now=now,
        incidents=facts,
        by_severity=dict(sorted(Counter(i.severity for i in facts).items())),
        by_area=dict(sorted(Counter(i.area for i in facts).items())),
        repeats=_repeats(by_week, week),
        rollbacks=_rollbacks(rollbacks, refs, hidden, start=start, end=end),
        followups=_followups(followups, refs, hidden, end=end, now=now),
        trend=_trend(by_week, week, now=now),
        failures=failures,
    )


def _incident_facts(incident: Incident, *, now: datetime) -> IncidentFacts:
    outcome = deadline_outcome(moments_of(incident), now=now)
    return IncidentFacts(
        ref=incident.ref,
        # The review is posted in a channel of its own: a restricted incident's title is not.
        title=subject_words(incident) if incident.restricted else incident.title,
        severity=incident.severity,
        area=incident.area_name or incident.area,
        service=incident.service,
        state=incident.state,
        declared_at=incident.declared_at,
        acknowledged_by=incident.acknowledged_by,
        deadline_met=None if outcome is None else outcome.met,
        missed_by=None if outcome is None or outcome.met else outcome.by,
    )


def _repeats(by_week: Mapping[Week, Sequence[Incident]], week: Week) -> tuple[RepeatService, ...]:
    weeks = [week.shifted(-n) for n in range(REPEAT_WEEKS - 1, -1, -1)]  # oldest first
    refs: dict[str, list[str]] = {}
    for w in weeks:
        for incident in by_week.get(w, []):
            if incident.service:
                refs.setdefault(incident.service, []).append(incident.ref)
    this_week = Counter(i.service for i in by_week.get(week, []) if i.service)
    repeats = [
        RepeatService(service, tuple(found), this_week[service])
        for service, found in refs.items()
        if len(found) > 1
    ]
    return tuple(sorted(repeats, key=lambda r: (-len(r.refs), r.service)))


def _rollbacks(
    rollbacks: Iterable[Rollback],
    refs: Mapping[int, str],
    hidden: Mapping[int, str | None],
    *,
    start: datetime,
    end: datetime,
) -> tuple[RollbackFacts, ...]:
    week = [r for r in rollbacks if not r.dry_run and start <= r.requested_at < end]
    return tuple(
        RollbackFacts(
            service=r.service,
            environment=r.environment,
            from_version=r.from_version,
            to_version=r.to_version,
            state=r.state,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            incident=None if r.incident_id is None else refs.get(r.incident_id),
            message="" if r.incident_id in hidden else r.message,
            restricted=r.incident_id in hidden,
        )
        for r in sorted(week, key=lambda r: (r.requested_at, r.id or 0))
    )


def _followups(
    followups: Iterable[FollowUp],
    refs: Mapping[int, str],
    hidden: Mapping[int, str | None],
    *,
    end: datetime,
    now: datetime,
) -> tuple[FollowUpFacts, ...]:
    open_ones = [f for f in followups if f.state == "open" and f.created_at < end]
    return tuple(
        FollowUpFacts(
            incident=refs.get(f.incident_id, f"incident {f.incident_id}"),
            text="" if f.incident_id in hidden else f.text,
            owner=f.owner,
            created_at=f.created_at,
            age=now - f.created_at,
            restricted=f.incident_id in hidden,
            service=hidden.get(f.incident_id),
        )
        for f in sorted(open_ones, key=lambda f: (f.created_at, f.id or 0))
    )


def _week_figures(
    incidents: Sequence[Incident], *, now: datetime
) -> tuple[timedelta | None, float | None]:
    """A week's median time to acknowledge and share of deadlines met."""
    moments: list[Moments] = [moments_of(i) for i in incidents]
    median = summarise(time_to_acknowledge(m) for m in moments).median
    return median, share_of_deadlines_met(moments, now=now)


def _trend(by_week: Mapping[Week, Sequence[Incident]], week: Week, *, now: datetime) -> Trend:
    median, share = _week_figures(by_week.get(week, []), now=now)
    before = [by_week.get(week.shifted(-n), []) for n in range(1, TREND_WEEKS + 1)]
    figures = [_week_figures(incidents, now=now) for incidents in before]
    medians = [m.total_seconds() for m, _ in figures if m is not None]
    shares = [s for _, s in figures if s is not None]
    return Trend(
        weeks=TREND_WEEKS,
        incidents=len(by_week.get(week, [])),
        incidents_before=sum(len(i) for i in before) / TREND_WEEKS,
        median_ack=median,
        median_ack_before=timedelta(seconds=sum(medians) / len(medians)) if medians else None,
        deadlines_met=share,
        deadlines_met_before=sum(shares) / len(shares) if shares else None,
    )
