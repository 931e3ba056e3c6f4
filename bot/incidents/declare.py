"""Declaring an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.channels import channel_name
from bot.core.deadlines import response_deadline
from bot.core.escaping import escape, mention
from bot.core.raci import (
    UnknownAreaError,
    UnknownServiceError,
    area_for,
    channel_invites,
    who_to_inform,
    who_to_page,
)
from bot.core.severity import SeverityError, parse_severity
from bot.incidents import messages
from bot.incidents.errors import UserError
from bot.incidents.escalation import schedule_response
from bot.incidents.paging import page_people
from bot.incidents.records import record
from bot.store.db import db_now
from bot.store.incidents import incident_by_request, insert_incident, next_incident_number
from bot.store.tables import Incident

MAX_TITLE = 200


@dataclass(frozen=True)
class Declaration:
    """What a user asked to declare."""

    title: str
    severity: str
    declared_by: str
    service: str | None = None
    area: str | None = None
    description: str = ""
    request_key: str | None = None


@dataclass(frozen=True)
class Declared:
    """The declared incident; `created` is False when a retried request found it."""

    incident: Incident
    created: bool


def validate(config: Config, declaration: Declaration) -> tuple[str, str]:
    """Check a declaration; return (severity, area) or raise UserError saying why."""
    title = declaration.title.strip()
    if not title:
        raise UserError(
            "An incident needs a title: `/incident declare P1 Checkout answers are wrong`."
        )
    if len(title) > MAX_TITLE:
        raise UserError(f"The title is {len(title)} characters; keep it under {MAX_TITLE}.")
    try:
        severity = parse_severity(declaration.severity)
        area = area_for(config, service=declaration.service, area=declaration.area)
    except (SeverityError, UnknownAreaError, UnknownServiceError) as err:
        raise UserError(str(err.args[0]) if err.args else str(err)) from err
    return severity, area


def declare(session: Session, config: Config, declaration: Declaration) -> Declared:
    """Open an incident: number, channel, pages, announcements, all in one transaction."""
    if declaration.request_key:
        existing = incident_by_request(session, request_key=declaration.request_key)
        if existing is not None:
            return Declared(existing, created=False)
    severity, area = validate(config, declaration)
    policy = config.severities[severity]
    now = db_now(session)
    number = next_incident_number(session)
    title = declaration.title.strip()
    incident = insert_incident(
        session,
        number=number,
        title=title,
        description=declaration.description.strip(),
        severity=severity,
        area=area,
        service=declaration.service,
        declared_by=declaration.declared_by,
        declared_at=now,
        response_deadline=response_deadline(config, severity, now),
        channel_name=channel_name(number, title),
        request_key=declaration.request_key,
    )
    schedule_response(session, config, incident, now=now, fresh=True)

    pages = who_to_page(config, area, policy.notify, now)
    record(
        session,
        incident,
        at=now,
        actor=declaration.declared_by,
        kind="declared",
        text=f"{mention(declaration.declared_by)} declared {incident.ref} ({severity}): "
        f"{escape(title)}",
        data={"severity": severity, "area": area, "service": declaration.service},
    )

    invitees = [declaration.declared_by, *channel_invites(config, area, policy.notify, now)]
    messages.send(session, incident, "open_channel", now=now)
    messages.send(session, incident, "invite", now=now, users=list(dict.fromkeys(invitees)))
    messages.send(session, incident, "post_main", now=now)
    messages.send(session, incident, "pin_main", now=now)
    page_people(
        session,
        config,
        incident,
        pages,
        actor="firebell",
        reason="declared",
        level=1,
        now=now,
        invite=False,
    )
    _inform(session, config, incident, now=now)
    return Declared(incident, created=True)


def _inform(session: Session, config: Config, incident: Incident, *, now: datetime) -> None:
    """Mirror the main message to announcement, backlog and informed teams' channels;
    informed people without a channel get a DM."""
    scope = config.severities[incident.severity].notify
    for entry in who_to_inform(config, incident.area, scope):
        if entry.channel is not None:
            role = (
                {
                    config.channels.announcements: "announcement",
                    config.channels.backlog: "backlog",
                }.get(entry.channel, "informed")
                if entry.team is None
                else "informed"
            )
            messages.mirror(session, incident, channel=entry.channel, role=role, now=now)
            continue
        for user in entry.users:
            messages.notice(
                session,
                incident,
                user=user,
                now=now,
                text=f":information_source: FYI: {incident.ref} ({incident.severity}) was "
                f"declared: {escape(incident.title)}. Follow it in `#{incident.channel_name}`.",
            )
