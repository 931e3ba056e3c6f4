"""Changing an incident after it is declared: severity, lead, notes, status, state."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.core.permissions import resolve_action, severity_action
from bot.core.pii import redact_for
from bot.core.raci import who_to_page
from bot.core.severity import SeverityError, parse_severity
from bot.core.states import State, TransitionError, transition
from bot.incidents import queue
from bot.incidents.acknowledge import mark_acknowledged
from bot.incidents.changes import open_for_change
from bot.incidents.errors import UserError
from bot.incidents.escalation import schedule_response
from bot.incidents.paging import page_people, paged
from bot.incidents.permitted import peak_of, require, require_first
from bot.incidents.records import record
from bot.incidents.reminders import schedule_status_reminder
from bot.incidents.typed import typed_text
from bot.postmortem.queueing import summaries
from bot.store.deadlines import cancel_deadlines
from bot.store.tables import Incident, OutboxMessage

MAX_TEXT = 3000


def _text(text: str, what: str, example: str) -> str:
    return typed_text(
        text, what=what, limit=MAX_TEXT, if_blank=f"Say what the {what} is: `{example}`."
    )


def change_severity(
    session: Session, config: Config, *, incident_id: int, actor: str, severity: str
) -> Incident:
    """Move to another severity; its deadline and paging scope follow.

    While nobody has acknowledged, whoever the new scope adds and was never paged for
    this incident is paged now. Lowering a P0 needs `permissions.lower_p0_severity`,
    lowering a P1 `permissions.resolve_p1`.
    """
    try:
        new = parse_severity(severity)
    except SeverityError as err:
        raise UserError(f"{err} - e.g. `/incident sev P1`.") from err
    incident, now = open_for_change(session, incident_id)
    old = incident.severity
    if new == old:
        raise UserError(f"{incident.ref} is already {new}.")
    action, what = severity_action(old, new), "incident.severity_changed"
    require(config, incident, action=action, attempted=what, actor=actor, now=now)
    incident.severity = new
    schedule_response(session, config, incident, now=now)
    if State(incident.state) != State.OPEN:
        schedule_status_reminder(session, config, incident, now=now)
    change = {"from": old, "to": new}
    record(session, incident, "severity_changed", at=now, actor=actor, post=True, **change)
    policy = config.severities[new]
    if State(incident.state) == State.OPEN:
        already = paged(session, incident)
        scope = who_to_page(config, incident.area, policy.notify, now)
        fresh = [p for p in scope if p.user not in already]
        paging = page_people(
            session,
            incident,
            fresh,
            actor="firebell",
            reason={"cause": "severity", "severity": new},
            step=incident.escalation_level,
            now=now,
            already=already,
        )
        queue.send(session, incident, *paging.messages, now=now)
    channel = config.channels.announcements
    if policy.notify in ("everyone", "owning_team") and channel:
        lane = f"{queue.channel_lane(incident)}:announcement:{channel}"
        announced = session.execute(
            select(exists().where(col(OutboxMessage.lane) == lane))
        ).scalar_one()
        if not announced:
            mirror = queue.mirror(incident, channel=channel, role="announcement")
            queue.send(session, incident, mirror, now=now)
    queue.refresh(session, incident, now=now)
    return incident


def set_lead(session: Session, *, incident_id: int, actor: str, lead: str) -> Incident:
    """Make `lead` the incident lead (commander)."""
    incident, now = open_for_change(session, incident_id)
    incident.lead = lead
    record(session, incident, "lead_set", at=now, actor=actor, post=True, lead=lead)
    queue.send(session, incident, queue.to_channel(incident, "invite", users=[lead]), now=now)
    queue.refresh(session, incident, now=now)
    return incident


def add_note(
    session: Session, config: Config, *, incident_id: int, actor: str, text: str
) -> Incident:
    """Add a timeline entry in the user's words."""
    note = _text(text, "note", "/incident note Rolled back the prompt change")
    incident, now = open_for_change(session, incident_id)
    note = redact_for(config, incident.service, note)
    record(session, incident, "note", at=now, actor=actor, text=note)
    return incident


def post_status(
    session: Session, config: Config, *, incident_id: int, actor: str, text: str
) -> Incident:
    """Post a status update; the update reminder counts from now."""
    status = _text(text, "status", "/incident status Error rate back to normal, watching")
    incident, now = open_for_change(session, incident_id)
    status = redact_for(config, incident.service, status)
    incident.last_status_at = now
    schedule_status_reminder(session, config, incident, now=now)
    record(session, incident, "status", at=now, actor=actor, post=True, text=status)
    queue.refresh(session, incident, now=now)
    return incident


def mitigate(session: Session, config: Config, *, incident_id: int, actor: str) -> Incident:
    """The impact is contained; the incident stays open until resolved."""
    incident, now = open_for_change(session, incident_id)
    try:
        transition(State(incident.state), State.MITIGATED)
    except TransitionError as err:
        raise UserError(f"{incident.ref} cannot be mitigated: {err}.") from err
    if State(incident.state) == State.OPEN:
        mark_acknowledged(session, incident, actor=actor, now=now)
    incident.state = State.MITIGATED.value
    incident.mitigated_at = now
    schedule_status_reminder(session, config, incident, now=now)
    record(session, incident, "mitigated", at=now, actor=actor, post=True)
    queue.refresh(session, incident, now=now)
    return incident


def resolve(
    session: Session, config: Config, *, incident_id: int, actor: str, summary: str = ""
) -> Incident:
    """Close the incident and post its postmortem summary (`bot.postmortem`): in full in
    its channel, short in the announcements and informed teams' channels. One that is
    or ever was P0 or P1 (its peak, `peak_of`) only by whom `permissions.resolve_p0`/
    `resolve_p1` allow (`NotPermittedError`)."""
    summary = typed_text(summary, what="summary", limit=MAX_TEXT)
    require_first(
        session,
        config,
        incident_id=incident_id,
        action_of=lambda found: resolve_action(peak_of(session, found)),
        attempted="incident.resolved",
        actor=actor,
    )
    incident, now = open_for_change(session, incident_id)
    if State(incident.state) == State.OPEN:
        mark_acknowledged(session, incident, actor=actor, now=now)
    cancel_deadlines(session, incident_id=incident_id)
    incident.state = State.RESOLVED.value
    incident.resolved_at = now
    incident.resolved_by = actor
    incident.summary = redact_for(config, incident.service, summary)
    record(session, incident, "resolved", at=now, actor=actor, summary=incident.summary)
    queue.refresh(session, incident, now=now)
    queue.send(session, incident, *summaries(config, incident), now=now)
    return incident
