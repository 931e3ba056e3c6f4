"""Declaring an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config.model import Config
from bot.core.channels import channel_name
from bot.core.deadlines import response_deadline
from bot.core.pii import redact_for
from bot.core.raci import (
    UnknownAreaError,
    UnknownServiceError,
    area_for,
    channel_invites,
    who_to_inform,
    who_to_page,
)
from bot.core.severity import SeverityError, parse_severity
from bot.core.visibility import restricted_service
from bot.incidents import queue
from bot.incidents.errors import UserError
from bot.incidents.escalation import schedule_response
from bot.incidents.paging import page_people
from bot.incidents.records import record
from bot.incidents.typed import typed_text
from bot.store.db import db_now
from bot.store.incidents import (
    incident_by_request,
    insert_incident,
    number_incident,
    take_incident_number,
)
from bot.store.outbox import Message
from bot.store.tables import Incident

MAX_TITLE = 200
MAX_DESCRIPTION = 3000  # the form allows 2,900; a section block shows 3,000


@dataclass(frozen=True)
class Declaration:
    """What a user asked to declare."""

    title: str
    severity: str
    declared_by: str
    service: str | None = None
    area: str | None = None
    description: str = ""
    request_key: str | None = None  # the Slack request behind it: a retry finds its incident
    dm_declarer: bool = False  # tell the declarer by DM (a form has no answer to show it in)
    # When the problem was noticed: an alert's first firing; a person notices as they declare.
    detected_at: datetime | None = None
    impact_started_at: datetime | None = None  # an alert's earliest `startsAt`
    origin: str | None = None  # `Incident.origin`: None for a person, `alert`, `storm`
    restricted: bool = False  # restricted whatever its service (a storm a `pii` group opened)


@dataclass(frozen=True)
class Declared:
    """The declared incident; `created` is False when a retried request found it."""

    incident: Incident
    created: bool


@dataclass(frozen=True)
class Checked:
    """A declaration's fields as they will be stored."""

    title: str
    description: str
    severity: str
    area: str


def validate(config: Config, declaration: Declaration) -> Checked:
    """Check a declaration; return its fields as stored, or raise UserError naming the field."""
    title = typed_text(
        redact_for(config, declaration.service, declaration.title),
        what="title",
        limit=MAX_TITLE,
        if_blank="An incident needs a title: `/incident declare P1 Checkout answers are wrong`.",
        field="title",
    )
    description = typed_text(
        redact_for(config, declaration.service, declaration.description),
        what="description",
        limit=MAX_DESCRIPTION,
        field="description",
    )
    try:
        severity = parse_severity(declaration.severity)
    except SeverityError as err:
        raise UserError(str(err), field="severity") from err
    try:
        area = area_for(config, service=declaration.service, area=declaration.area)
    except (UnknownAreaError, UnknownServiceError) as err:
        raise UserError(str(err.args[0]), field="scope") from err
    return Checked(title, description, severity, area)


def declare(session: Session, config: Config, declaration: Declaration) -> Declared:
    """Open an incident: number, channel, pages, announcements, all in one transaction.

    A Slack retry of the request finds the incident the first attempt declared, even
    when both run at once: the second insert of one request key does nothing (the
    database waits for the first to commit) and answers with the first's incident.
    """
    checked = validate(config, declaration)
    now = db_now(session)
    incident = insert_incident(
        session,
        title=checked.title,
        description=checked.description,
        severity=checked.severity,
        area=checked.area,
        area_name=config.areas[checked.area].name,
        service=declaration.service,
        declared_by=declaration.declared_by,
        declared_at=now,
        detected_at=declaration.detected_at or now,
        response_deadline=response_deadline(config, checked.severity, now),
        request_key=declaration.request_key,
        impact_started_at=declaration.impact_started_at,
        origin=declaration.origin,
        # Frozen at declaration: a later config change never un-restricts it.
        restricted=declaration.restricted or restricted_service(config, declaration.service),
    )
    if incident is None:
        assert declaration.request_key is not None  # noqa: S101 - only a key conflicts
        existing = incident_by_request(session, request_key=declaration.request_key)
        assert existing is not None  # noqa: S101 - the conflicting row is committed
        return Declared(existing, created=False)
    _open(session, config, incident, now=now)
    if declaration.dm_declarer:
        notice = queue.notice(incident, user=incident.declared_by, notice="declared")
        queue.send(session, incident, notice, now=now)
    # Last: concurrent declarations queue on the counter's lock only for their commit.
    number_incident(session, incident, take_incident_number(session), channel_name)
    return Declared(incident, created=True)


def _open(session: Session, config: Config, incident: Incident, *, now: datetime) -> None:
    """Everything a new incident sets in motion."""
    policy = config.severities[incident.severity]
    record(
        session,
        incident,
        "declared",
        at=now,
        actor=incident.declared_by,
        severity=incident.severity,
        area=incident.area,
        service=incident.service,
        title=incident.title,
        **_origin(incident),
    )
    schedule_response(session, config, incident, now=now, fresh=True)
    declarer = [incident.declared_by] if incident.origin is None else []  # alerts: no person
    invitees = [*declarer, *channel_invites(config, incident.area, policy.notify, now)]
    paging = page_people(
        session,
        incident,
        who_to_page(config, incident.area, policy.notify, now),
        actor="firebell",
        reason={"cause": "declared"},
        step=1,
        now=now,
        invite=False,
        already={},
    )
    # Page DMs are written first (their own lanes, the lowest ids): under Slack's rate
    # limits a page is never queued behind channel creations, invites or pins.
    dms = [m for m in paging.messages if m.kind == "page"]
    queue.send(
        session,
        incident,
        *dms,
        queue.to_channel(incident, "open_channel"),
        queue.to_channel(incident, "invite", users=list(dict.fromkeys(invitees))),
        queue.to_channel(incident, "post_main"),
        queue.to_channel(incident, "pin_main"),
        *(m for m in paging.messages if m.kind != "page"),
        *_inform(config, incident),
        now=now,
    )


def _origin(incident: Incident) -> dict[str, Any]:
    """What an incident opened by alerts adds to its `declared` entry."""
    return {} if incident.origin is None else {"origin": incident.origin}


def _inform(config: Config, incident: Incident) -> list[Message]:
    """Mirrors of the main message in the announcement, backlog and informed teams'
    channels; a DM to each informed person without a channel."""
    scope = config.severities[incident.severity].notify
    roles = {config.channels.announcements: "announcement", config.channels.backlog: "backlog"}
    messages = []
    for entry in who_to_inform(config, incident.area, scope):
        if entry.channel is not None:
            role = roles.get(entry.channel, "informed") if entry.team is None else "informed"
            messages.append(queue.mirror(incident, channel=entry.channel, role=role))
            continue
        messages += [queue.notice(incident, user=u, notice="informed") for u in entry.users]
    return messages
