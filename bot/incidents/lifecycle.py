"""Changing an incident after it is declared: severity, lead, notes, status, state."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.core.deadlines import response_deadline
from bot.core.escaping import escape, mention
from bot.core.raci import Page, resolve_ref, who_to_page
from bot.core.severity import SeverityError, parse_severity
from bot.core.states import State, TransitionError, transition
from bot.incidents import messages
from bot.incidents.acknowledge import mark_acknowledged
from bot.incidents.changes import open_for_change
from bot.incidents.errors import UserError
from bot.incidents.escalation import schedule_response, schedule_status_reminder
from bot.incidents.paging import page_people, paged_users
from bot.incidents.records import record
from bot.incidents.wording import ago
from bot.store.deadlines import cancel_deadlines
from bot.store.tables import Incident, OutboxMessage

MAX_TEXT = 3000


def _text(text: str, what: str, example: str) -> str:
    text = text.strip()
    if not text:
        raise UserError(f"Say what the {what} is: `{example}`.")
    if len(text) > MAX_TEXT:
        raise UserError(f"That {what} is {len(text)} characters; keep it under {MAX_TEXT}.")
    return text


def change_severity(
    session: Session, config: Config, *, incident_id: int, actor: str, severity: str
) -> Incident:
    """Move to another severity; its deadline and paging scope follow."""
    try:
        new = parse_severity(severity)
    except SeverityError as err:
        raise UserError(f"{err} - e.g. `/incident sev P1`.") from err
    incident, now = open_for_change(session, incident_id)
    old = incident.severity
    if new == old:
        raise UserError(f"{incident.ref} is already {new}.")
    incident.severity = new
    if State(incident.state) == State.OPEN:
        schedule_response(session, config, incident, now=now)
    else:
        incident.response_deadline = response_deadline(config, new, incident.declared_at)
        schedule_status_reminder(session, config, incident, now=now)
    text = f"{mention(actor)} changed the severity of {incident.ref} from {old} to {new}"
    record(
        session,
        incident,
        at=now,
        actor=actor,
        kind="severity_changed",
        text=text,
        data={"from": old, "to": new},
    )
    messages.post_in_channel(session, incident, f":arrows_counterclockwise: {text}.", now=now)

    policy = config.severities[new]
    if State(incident.state) == State.OPEN:
        already = paged_users(session, incident)
        fresh = [
            p
            for p in who_to_page(config, incident.area, policy.notify, now)
            if p.user not in already
        ]
        page_people(
            session,
            config,
            incident,
            fresh,
            actor="firebell",
            reason=f"severity raised to {new}",
            level=incident.escalation_level,
            now=now,
        )
    channel = config.channels.announcements
    if policy.notify in ("everyone", "owning_team") and channel:
        lane = f"inc:{incident.id}:announcement:{channel}"
        announced = session.execute(
            select(exists().where(col(OutboxMessage.lane) == lane))
        ).scalar_one()
        if not announced:
            messages.mirror(session, incident, channel=channel, role="announcement", now=now)
    messages.refresh(session, incident, now=now)
    return incident


def set_lead(session: Session, *, incident_id: int, actor: str, lead: str) -> Incident:
    """Make `lead` the incident lead (commander)."""
    incident, now = open_for_change(session, incident_id)
    incident.lead = lead
    text = f"{mention(actor)} made {mention(lead)} the incident lead"
    record(session, incident, at=now, actor=actor, kind="lead_set", text=text, data={"lead": lead})
    messages.send(session, incident, "invite", now=now, users=[lead])
    messages.post_in_channel(session, incident, f":crown: {text}.", now=now)
    messages.refresh(session, incident, now=now)
    return incident


def add_note(session: Session, *, incident_id: int, actor: str, text: str) -> Incident:
    """Add a timeline entry in the user's words."""
    note = _text(text, "note", "/incident note Rolled back the prompt change")
    incident, now = open_for_change(session, incident_id)
    record(session, incident, at=now, actor=actor, kind="note", text=escape(note))
    return incident


def post_status(
    session: Session, config: Config, *, incident_id: int, actor: str, text: str
) -> Incident:
    """Post a status update; the update reminder counts from now."""
    status = _text(text, "status", "/incident status Error rate back to normal, watching")
    incident, now = open_for_change(session, incident_id)
    incident.last_status_at = now
    if State(incident.state) != State.OPEN:
        schedule_status_reminder(session, config, incident, now=now)
    record(session, incident, at=now, actor=actor, kind="status", text=escape(status))
    messages.post_in_channel(
        session,
        incident,
        f":mega: *Status update* from {mention(actor)}: {escape(status)}",
        now=now,
    )
    messages.refresh(session, incident, now=now)
    return incident


def page_now(
    session: Session, config: Config, *, incident_id: int, actor: str, target: str
) -> list[Page]:
    """Page a team (through its on-call) or a person right away."""
    incident, now = open_for_change(session, incident_id)
    if target not in config.teams and not target.startswith(("U", "W")):
        teams = ", ".join(sorted(config.teams)) or "none configured"
        raise UserError(
            f"'{escape(target)}' is neither a team nor a user. "
            f"Try `/incident page @someone` or a team: {teams}."
        )
    pages = [Page(user, "consulted", team) for user, team in resolve_ref(config, target, now)]
    if not pages:
        raise UserError(f"Team {target!r} has nobody to page: add members or an on-call.")
    page_people(
        session,
        config,
        incident,
        pages,
        actor=actor,
        reason=f"paged by {mention(actor)}",
        level=incident.escalation_level,
        now=now,
    )
    return pages


def mitigate(session: Session, config: Config, *, incident_id: int, actor: str) -> Incident:
    """The impact is contained; the incident stays open until resolved."""
    incident, now = open_for_change(session, incident_id)
    try:
        transition(State(incident.state), State.MITIGATED)
    except TransitionError as err:
        raise UserError(f"{incident.ref} cannot be mitigated: {err}.") from err
    if State(incident.state) == State.OPEN:
        mark_acknowledged(session, incident, actor=actor, now=now)
        schedule_status_reminder(session, config, incident, now=now)
    incident.state = State.MITIGATED.value
    incident.mitigated_at = now
    text = f"{mention(actor)} marked {incident.ref} mitigated"
    record(session, incident, at=now, actor=actor, kind="mitigated", text=text)
    messages.post_in_channel(session, incident, f":large_yellow_circle: {text}.", now=now)
    messages.refresh(session, incident, now=now)
    return incident


def resolve(
    session: Session, config: Config, *, incident_id: int, actor: str, summary: str = ""
) -> Incident:
    """Close the incident and post its summary with response times."""
    incident, now = open_for_change(session, incident_id)
    if State(incident.state) == State.OPEN:
        mark_acknowledged(session, incident, actor=actor, now=now)
    cancel_deadlines(session, incident_id=incident_id)
    incident.state = State.RESOLVED.value
    incident.resolved_at = now
    incident.resolved_by = actor
    incident.summary = summary.strip()[:MAX_TEXT]
    acked = incident.acknowledged_at or now
    lines = [
        f":white_check_mark: *{incident.ref} resolved* by {mention(actor)}",
        f"Time to acknowledge: {ago(acked - incident.declared_at)}",
        f"Time to resolve: {ago(now - incident.declared_at)}",
    ]
    if incident.mitigated_at:
        lines.insert(2, f"Time to mitigate: {ago(incident.mitigated_at - incident.declared_at)}")
    if incident.summary:
        lines.append(f"Summary: {escape(incident.summary)}")
    record(
        session,
        incident,
        at=now,
        actor=actor,
        kind="resolved",
        text=f"{mention(actor)} resolved {incident.ref}",
        data={"summary": incident.summary},
    )
    messages.post_in_channel(session, incident, "\n".join(lines), now=now)
    messages.refresh(session, incident, now=now)
    return incident
