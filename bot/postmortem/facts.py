"""What a postmortem says, as facts: gathered in one read, worded later (`bot.postmortem.view`).

`gather` reads an incident, its timeline, rollbacks, ticked runbook steps and
follow-ups in the caller's transaction; `postmortem_of` turns those rows into a
`Postmortem` without touching the database or the clock (time is an argument), so a
summary can be rendered again at any time, the same way, from the same facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.config.model import Config
from bot.core.timeline import pins as standing_pins
from bot.core.timeline import shown as shown_entries
from bot.reports import metrics
from bot.store.db import db_now
from bot.store.incidents import get_incident, incident_by_number, timeline
from bot.store.postmortems import followups_of, rollbacks_of, ticked_steps_of
from bot.store.tables import FollowUp, Incident, Rollback, RunbookStep, TimelineEntry


@dataclass(frozen=True)
class SeverityChange:
    """`/incident sev`: from what to what, by whom, when."""

    at: datetime
    by: str
    before: str
    after: str


@dataclass(frozen=True)
class Paged:
    """One person paged, in which RACI role, through which team (a key; None: by name)."""

    user: str
    role: str
    team: str | None


@dataclass(frozen=True)
class PagingRound:
    """Who was paged at once, at which escalation step and level, and why.

    Step 1 is the declaration's paging (by the severity's notify scope); a later step
    names its escalation `level`. `cause` is the page's reason (`declared`, `severity`,
    `page`, `unacknowledged`, `escalated`); `by` whoever asked (`firebell` for the clock).
    """

    at: datetime
    step: int
    level: str | None
    cause: str | None
    by: str
    people: tuple[Paged, ...]


@dataclass(frozen=True)
class RollbackDone:
    """A rollback asked for in the incident, and how it went."""

    service: str
    environment: str
    from_version: str | None
    to_version: str | None
    requested_by: str
    requested_at: datetime
    reason: str
    state: str  # running, succeeded, failed
    finished_at: datetime | None
    status_code: int | None
    duration_ms: int | None
    message: str


@dataclass(frozen=True)
class StepTicked:
    """A runbook step ticked (and still ticked): its words as posted, by whom, when."""

    step: str
    text: str
    by: str
    at: datetime


@dataclass(frozen=True)
class RunbookUse:
    """A runbook posted in the incident channel, and its steps ticked."""

    name: str
    first_at: datetime
    first_by: str
    times: int
    steps: tuple[StepTicked, ...]


@dataclass(frozen=True)
class Said:
    """Something a person said in the incident (a status update): who, when, what."""

    at: datetime
    by: str
    text: str


@dataclass(frozen=True)
class Pin:
    """A message pinned to the timeline with :pushpin:, as it was when pinned."""

    at: datetime
    author: str
    text: str
    posted_at: datetime | None
    permalink: str | None


@dataclass(frozen=True)
class FollowUpItem:
    """An action item: what, whose, open or done."""

    text: str
    owner: str
    state: str
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class Raci:
    """The area's RACI row as the config has it now (team keys or user IDs)."""

    responsible: str
    accountable: str
    consulted: tuple[str, ...]
    informed: tuple[str, ...]


@dataclass(frozen=True)
class Postmortem:
    """Everything a postmortem of one incident says, read at `now`."""

    incident: Incident
    now: datetime
    declared_severity: str
    severity_changes: tuple[SeverityChange, ...]
    raci: Raci | None  # None: the config no longer has the area
    respond_within: timedelta | None  # None: `next_sprint`, or a severity no longer configured
    deadline: metrics.DeadlineOutcome | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    time_to_detect: timedelta | None
    customer_impact: timedelta | None
    escalation_steps: int
    paging: tuple[PagingRound, ...]
    rollbacks: tuple[RollbackDone, ...]
    runbooks: tuple[RunbookUse, ...]
    status_updates: tuple[Said, ...]
    followups: tuple[FollowUpItem, ...]
    pins: tuple[Pin, ...]
    timeline: tuple[TimelineEntry, ...]  # as the timeline shows it (pins folded)


def gather(
    session: Session, config: Config, *, incident_id: int | None = None, number: int | None = None
) -> Postmortem | None:
    """The postmortem of the incident with this id (or `INC-<number>`), read in the
    caller's transaction at the database's time; None if there is no such incident."""
    if incident_id is not None:
        incident = get_incident(session, incident_id=incident_id)
    elif number is not None:
        incident = incident_by_number(session, number=number)
    else:
        raise TypeError("gather needs an incident_id or a number")
    if incident is None or incident.id is None:
        return None
    return postmortem_of(
        incident,
        config,
        entries=timeline(session, incident_id=incident.id),
        rollbacks=rollbacks_of(session, incident_id=incident.id),
        ticked=ticked_steps_of(session, incident_id=incident.id),
        followups=followups_of(session, incident_id=incident.id),
        now=db_now(session),
    )


def postmortem_of(
    incident: Incident,
    config: Config,
    *,
    entries: Sequence[TimelineEntry],
    rollbacks: Sequence[Rollback],
    ticked: Sequence[RunbookStep],
    followups: Sequence[FollowUp],
    now: datetime,
) -> Postmortem:
    """The postmortem of `incident` from its rows (pure)."""
    moments = metrics.moments_of(incident)
    declared = next((e for e in entries if e.kind == "declared"), None)
    changes = tuple(
        SeverityChange(e.at, e.actor, str(e.data.get("from")), str(e.data.get("to")))
        for e in entries
        if e.kind == "severity_changed"
    )
    first_severity = changes[0].before if changes else incident.severity
    return Postmortem(
        incident=incident,
        now=now,
        declared_severity=str(declared.data.get("severity")) if declared else first_severity,
        severity_changes=changes,
        raci=_raci(config, incident.area),
        respond_within=_respond_within(config, incident.severity),
        deadline=metrics.deadline_outcome(moments, now=now),
        time_to_acknowledge=metrics.time_to_acknowledge(moments),
        time_to_mitigate=metrics.time_to_mitigate(moments),
        time_to_resolve=metrics.time_to_resolve(moments),
        time_to_detect=metrics.time_to_detect(moments),
        customer_impact=metrics.customer_impact(moments),
        escalation_steps=metrics.escalation_steps(moments),
        paging=_paging(entries),
        rollbacks=tuple(_rollback(row) for row in rollbacks),
        runbooks=_runbooks(entries, ticked),
        status_updates=tuple(
            Said(e.at, e.actor, str(e.data.get("text", ""))) for e in entries if e.kind == "status"
        ),
        followups=tuple(
            FollowUpItem(f.text, f.owner, f.state, f.created_at, f.done_at) for f in followups
        ),
        pins=tuple(_pin(e) for e in standing_pins(entries)),
        timeline=tuple(shown_entries(entries)),
    )


def _raci(config: Config, area: str) -> Raci | None:
    row = config.areas.get(area)
    if row is None:
        return None
    return Raci(row.responsible, row.accountable, tuple(row.consulted), tuple(row.informed))


def _respond_within(config: Config, severity: str) -> timedelta | None:
    policy = config.severities.get(severity)
    if policy is None or not isinstance(policy.respond_within, timedelta):
        return None
    return policy.respond_within


def _people(pages: Any) -> tuple[Paged, ...]:
    if not isinstance(pages, list):
        return ()
    return tuple(
        Paged(str(p.get("user")), str(p.get("role") or ""), p.get("team"))
        for p in pages
        if isinstance(p, dict)
    )


def _paging(entries: Sequence[TimelineEntry]) -> tuple[PagingRound, ...]:
    """Each page as a round: `paged` entries carry who and the step; an `escalated`
    entry names its step's level (and is a round of its own when nobody was there)."""
    levels = {
        int(e.data.get("step", 0)): str(e.data.get("level"))
        for e in entries
        if e.kind == "escalated"
    }
    rounds = []
    for e in entries:
        if e.kind == "paged":
            step = int(e.data.get("step", 1))
            why = e.data.get("reason") or {}
            rounds.append(
                PagingRound(
                    at=e.at,
                    step=step,
                    level=levels.get(step),
                    cause=why.get("cause") if isinstance(why, dict) else None,
                    by=str(why.get("by") or e.actor) if isinstance(why, dict) else e.actor,
                    people=_people(e.data.get("pages")),
                )
            )
        elif e.kind == "escalated" and not e.data.get("pages"):
            step = int(e.data.get("step", 0))
            rounds.append(
                PagingRound(e.at, step, levels.get(step), str(e.data.get("cause")), e.actor, ())
            )
    return tuple(rounds)


def _rollback(row: Rollback) -> RollbackDone:
    return RollbackDone(
        service=row.service,
        environment=row.environment,
        from_version=row.from_version,
        to_version=row.to_version,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        reason=row.reason,
        state=row.state,
        finished_at=row.finished_at,
        status_code=row.status_code,
        duration_ms=row.duration_ms,
        message=row.message,
    )


def _runbooks(
    entries: Sequence[TimelineEntry], ticked: Sequence[RunbookStep]
) -> tuple[RunbookUse, ...]:
    """Runbooks in the order first posted (or first ticked, for one posted before its
    posting was a timeline entry), each with the steps ticked as they stand."""
    words = {
        (str(e.data.get("runbook")), str(e.data.get("step"))): str(e.data.get("text") or "")
        for e in entries
        if e.kind == "runbook_step"
    }
    shown: dict[str, list[TimelineEntry]] = {}
    for e in entries:
        if e.kind == "runbook_shown":
            shown.setdefault(str(e.data.get("runbook")), []).append(e)
    steps: dict[str, list[StepTicked]] = {}
    for row in ticked:
        text = words.get((row.runbook, row.step)) or row.step
        steps.setdefault(row.runbook, []).append(StepTicked(row.step, text, row.by, row.at))
    names = list(dict.fromkeys([*shown, *steps]))
    out = []
    for name in names:
        posts = shown.get(name, [])
        first = posts[0] if posts else None
        ticks = steps.get(name, [])
        out.append(
            RunbookUse(
                name=name,
                first_at=first.at if first else ticks[0].at,
                first_by=first.actor if first else ticks[0].by,
                times=len(posts),
                steps=tuple(ticks),
            )
        )
    return tuple(out)


def _pin(entry: TimelineEntry) -> Pin:
    data = entry.data
    posted = data.get("posted_at")
    try:
        posted_at = datetime.fromisoformat(str(posted)) if posted else None
    except ValueError:
        posted_at = None
    permalink = data.get("permalink")
    return Pin(
        at=entry.at,
        author=str(data.get("author") or entry.actor),
        text=str(data.get("text") or ""),
        posted_at=posted_at,
        permalink=str(permalink) if permalink else None,
    )
