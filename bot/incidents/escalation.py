"""Response deadlines and what happens when they pass: warnings, escalation, reminders.

Deadlines are rows (`bot.store.deadlines`); this module decides which rows an incident
gets and what firing one does. Firing runs in the transaction that claimed the row and
locks the incident first, so an acknowledgement racing an escalation either lands
before it (the escalation sees `acknowledged` and pages nobody) or after it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config.model import Config
from bot.core.deadlines import (
    escalation_steps,
    next_sprint_start,
    response_deadline,
    response_warning,
)
from bot.core.escaping import escape, mention
from bot.core.raci import Page, who_to_page_at_level
from bot.core.states import State
from bot.incidents import messages
from bot.incidents.changes import open_for_change
from bot.incidents.errors import UserError
from bot.incidents.paging import page_people
from bot.incidents.records import record
from bot.incidents.wording import ago
from bot.store.db import db_now
from bot.store.deadlines import (
    NEXT_DUE,
    add_deadline,
    cancel_deadlines,
    lock_due,
    mark_fired,
    next_due_at,
    pending_deadlines,
)
from bot.store.incidents import lock_incidents
from bot.store.tables import Deadline, Incident

ESCALATE, WARN, STATUS, SPRINT = "escalate", "warn", "status", "sprint"
RESPONSE_KINDS = (ESCALATE, WARN, SPRINT)


def _id(incident: Incident) -> int:
    assert incident.id is not None  # noqa: S101 - flushed before deadlines are added
    return incident.id


def schedule_response(
    session: Session, config: Config, incident: Incident, *, now: datetime, fresh: bool = False
) -> None:
    """(Re)plan an open incident's response deadline, warning and escalation steps.

    Steps already fired stay fired: after a severity change only the steps past
    `incident.escalation_level` are planned, from the declaration time, so an incident
    raised to P0 after 20 minutes is already late and escalates at once. A `fresh`
    incident (being declared) has nothing planned yet and its deadline already set.
    """
    if not fresh:
        cancel_deadlines(session, incident_id=_id(incident), kinds=RESPONSE_KINDS)
        incident.response_deadline = response_deadline(
            config, incident.severity, incident.declared_at
        )
    assert incident.response_deadline is not None  # noqa: S101 - set at declaration
    if State(incident.state) != State.OPEN:
        return
    policy = config.severities[incident.severity]
    if policy.notify == "backlog":
        add_deadline(
            session, incident_id=_id(incident), kind=SPRINT, due_at=incident.response_deadline
        )
        return
    warn = response_warning(config, incident.severity, incident.declared_at)
    if warn is not None and warn > now:
        add_deadline(session, incident_id=_id(incident), kind=WARN, due_at=warn)
    for step in escalation_steps(config, incident.severity, incident.declared_at):
        if step.step + 1 > incident.escalation_level:
            add_deadline(
                session,
                incident_id=_id(incident),
                kind=ESCALATE,
                due_at=step.due,
                level=step.step + 1,
                data={"level": step.level, "repeat": step.repeat},
            )


def schedule_status_reminder(
    session: Session, config: Config, incident: Incident, *, now: datetime
) -> None:
    """Plan the next status-update reminder, `update_every` after the last update."""
    cancel_deadlines(session, incident_id=_id(incident), kinds=[STATUS])
    every = config.severities[incident.severity].update_every
    if every is None or State(incident.state) == State.RESOLVED:
        return
    add_deadline(session, incident_id=_id(incident), kind=STATUS, due_at=now + every)


@dataclass(frozen=True)
class Firing:
    """What one `fire_due` transaction did."""

    fired: list[Deadline]
    busy: list[int]  # due, but their incident was held by another transaction
    full: bool  # the batch was full: more may be due
    upcoming: datetime | None = None  # when not full: the earliest pending deadline left


def fire_due(
    session: Session, config: Config, *, owner: str, limit: int = 50,
    skip: Collection[int] = (),
) -> Firing:
    """Fire up to `limit` due deadlines, earliest first, in this one transaction.

    Use cases lock an incident and then its deadlines; firing holds deadlines first,
    so it must not wait for an incident (that would deadlock with an ack). Incidents
    held by another transaction are skipped and their deadlines reported `busy`, to
    be tried again a moment later; they stay due.
    """
    now = db_now(session)
    due = lock_due(session, now=now, limit=limit, skip=skip)
    if not due:
        return Firing(fired=[], busy=[], full=False, upcoming=_upcoming(session))
    incidents = lock_incidents(session, incident_ids={d.incident_id for d in due})
    fired, busy = [], []
    for deadline in due:
        incident = incidents.get(deadline.incident_id)
        if incident is None:
            busy.append(deadline.id or 0)
            continue
        mark_fired(session, deadline, now=now, owner=owner)
        _act(session, config, incident, deadline, now=now)
        fired.append(deadline)
    full = len(due) == limit
    return Firing(fired=fired, busy=busy, full=full, upcoming=None if full else _upcoming(session))


def _upcoming(session: Session) -> datetime | None:
    """The earliest pending deadline, counting those this transaction adds at commit."""
    session.flush()
    times = [t for t in (next_due_at(session), session.info.get(NEXT_DUE)) if t is not None]
    return min(times, default=None)


def _act(
    session: Session, config: Config, incident: Incident, deadline: Deadline, *, now: datetime
) -> None:
    state = State(incident.state)
    if state == State.RESOLVED:
        return
    if deadline.kind == ESCALATE and state == State.OPEN:
        _escalate(session, config, incident, deadline, now=now)
    elif deadline.kind == WARN and state == State.OPEN:
        _warn(session, config, incident, now=now)
    elif deadline.kind == SPRINT and state == State.OPEN:
        _sprint_reminder(session, config, incident, now=now)
    elif deadline.kind == STATUS and state != State.OPEN:
        _status_reminder(session, config, incident, now=now)


def _level_pages(config: Config, incident: Incident, level: str, now: datetime) -> list[Page]:
    return who_to_page_at_level(config, incident.area, level, now)  # type: ignore[arg-type]


def _describe(config: Config, incident: Incident, pages: list[Page]) -> str:
    area = config.areas[incident.area].name
    parts = []
    for p in pages:
        team = config.teams[p.team].name if p.team and p.team in config.teams else None
        parts.append(
            f"{mention(p.user)}, {p.role} for {escape(area)}" + (f" ({team})" if team else "")
        )
    return "; ".join(parts)


def _page_level(
    session: Session,
    config: Config,
    incident: Incident,
    *,
    level: str,
    step: int,
    why: str,
    actor: str,
    now: datetime,
) -> list[Page]:
    pages = _level_pages(config, incident, level, now)
    incident.escalation_level = step
    record(
        session,
        incident,
        at=now,
        actor=actor,
        kind="escalated",
        text=f"Escalated to level {step} ({level}): {why}",
        data={"level": step, "name": level, "users": [p.user for p in pages]},
    )
    if pages:
        messages.post_in_channel(
            session,
            incident,
            f":rotating_light: {incident.ref} {why}: paging {_describe(config, incident, pages)}",
            now=now,
        )
        page_people(
            session,
            config,
            incident,
            pages,
            actor=actor,
            reason=why,
            level=step,
            now=now,
            invite=True,
            announce=False,
        )
    messages.refresh(session, incident, now=now)
    return pages


def _escalate(
    session: Session, config: Config, incident: Incident, deadline: Deadline, *, now: datetime
) -> None:
    level = str(deadline.data.get("level", config.escalation.levels[-1]))
    why = f"unacknowledged for {ago(now - incident.declared_at)}"
    _page_level(
        session,
        config,
        incident,
        level=level,
        step=deadline.level,
        why=why,
        actor="firebell",
        now=now,
    )


def escalate_now(session: Session, config: Config, *, incident_id: int, actor: str) -> list[Page]:
    """Page the next escalation level at once (the `Escalate` button)."""
    incident, now = open_for_change(session, incident_id)
    levels = config.escalation.levels
    step = incident.escalation_level + 1
    level: str = levels[min(step - 1, len(levels) - 1)]
    upcoming = [
        d for d in pending_deadlines(session, incident_id=_id(incident)) if d.kind == ESCALATE
    ]
    if upcoming:
        # The step paged now is the next scheduled one; the later steps keep their times.
        upcoming[0].cancelled = True
        session.add(upcoming[0])
        level = str(upcoming[0].data.get("level", level))
        step = upcoming[0].level
    pages = _page_level(
        session,
        config,
        incident,
        level=level,
        step=step,
        why=f"escalated by {mention(actor)}",
        actor=actor,
        now=now,
    )
    if not pages:
        raise UserError(f"Nobody is configured at escalation level {level!r} for this area.")
    return pages


def _warn(session: Session, config: Config, incident: Incident, *, now: datetime) -> None:
    assert incident.response_deadline is not None  # noqa: S101
    left = ago(incident.response_deadline - now)
    steps = config.escalation.levels
    nxt = steps[min(incident.escalation_level, len(steps) - 1)]
    text = (
        f":hourglass_flowing_sand: {incident.ref} is unacknowledged: respond within {left} "
        f"or it escalates to {nxt}. Press `Acknowledge` or type `/incident ack`."
    )
    record(session, incident, at=now, actor="firebell", kind="warned", text=text)
    messages.post_in_channel(session, incident, text, now=now)


def _status_reminder(
    session: Session, config: Config, incident: Incident, *, now: datetime
) -> None:
    every = config.severities[incident.severity].update_every
    assert every is not None  # noqa: S101 - STATUS rows exist only with update_every
    last = incident.last_status_at or incident.acknowledged_at or incident.declared_at
    if now - last >= every - timedelta(seconds=1):
        who = incident.lead or incident.acknowledged_by
        to = f"{mention(who)}, " if who else ""
        text = (
            f":memo: {to}{incident.ref} has had no status update for {ago(now - last)}. "
            "Post one with `/incident status <what is happening>`."
        )
        record(session, incident, at=now, actor="firebell", kind="status_reminder", text=text)
        messages.post_in_channel(session, incident, text, now=now)
        last = now
    add_deadline(session, incident_id=_id(incident), kind=STATUS, due_at=last + every)


def _sprint_reminder(
    session: Session, config: Config, incident: Incident, *, now: datetime
) -> None:
    text = (
        f":calendar: {incident.ref} ({incident.severity}) is still unacknowledged at the "
        f"start of the sprint: {escape(incident.title)}"
    )
    record(session, incident, at=now, actor="firebell", kind="sprint_reminder", text=text)
    if config.channels.backlog:
        messages.send(
            session,
            incident,
            "post",
            now=now,
            lane=f"inc:{_id(incident)}:backlog",
            channel=config.channels.backlog,
            text=text,
        )
    if config.sprint is not None:
        add_deadline(
            session,
            incident_id=_id(incident),
            kind=SPRINT,
            due_at=next_sprint_start(config.sprint, now),
        )
