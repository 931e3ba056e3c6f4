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
from bot.store.group import sharing
from bot.store.incidents import (
    get_incident,
    incident_ids_by_request,
    insert_incidents,
    take_incident_numbers,
)
from bot.store.tables import Incident

MAX_TITLE = 200
_AHEAD = "firebell.declarations_ahead"


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


@dataclass(frozen=True)
class _Opened:
    """An incident inserted ahead of its declaration's turn (see `_prepare`)."""

    incident: Incident
    now: datetime


_Ahead = _Opened | int | None  # inserted; the id a retried request declared; invalid


def declare(session: Session, config: Config, declaration: Declaration) -> Declared:
    """Open an incident: number, channel, pages, announcements, all in one transaction."""
    ahead = _ahead(session, config, declaration)
    if isinstance(ahead, int):
        existing = get_incident(session, incident_id=ahead)
        assert existing is not None  # noqa: S101 - found in this transaction
        return Declared(existing, created=False)
    if ahead is None:
        validate(config, declaration)  # raises the UserError that kept it out
        raise RuntimeError("a valid declaration was not prepared")  # pragma: no cover
    incident, now = ahead.incident, ahead.now
    severity, area, title = incident.severity, incident.area, incident.title
    policy = config.severities[severity]
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


def _ahead(session: Session, config: Config, declaration: Declaration) -> _Ahead:
    """This declaration's incident, inserted together with those of every declaration
    sharing the transaction (group commit) the first time one of them asks.

    A declaration is prepared with the batch once: one that already ran (or was
    prepared) is never taken into a later batch, even when a declaration the batch
    could not see (a form's, run through another use case) comes after it.
    """
    prepared: dict[int, _Ahead]
    seen: set[int]
    prepared, seen = session.info.setdefault(_AHEAD, ({}, set()))
    if id(declaration) not in prepared:
        batch = [
            d for d in _sharing(session, config) if id(d) not in seen and d is not declaration
        ]
        ahead = _prepare(session, config, [declaration, *batch])
        prepared.update(ahead)
        seen.update(ahead)
    return prepared.pop(id(declaration))


def _sharing(session: Session, config: Config) -> list[Declaration]:
    """The declarations of the `declare` calls in this transaction, with this config."""
    found: list[Declaration] = []
    for args, kwargs in sharing(session, declare):
        called = dict(zip(("config", "declaration"), args, strict=False)) | kwargs
        if called.get("config") is config and isinstance(called.get("declaration"), Declaration):
            found.append(called["declaration"])
    return found


def _prepare(
    session: Session, config: Config, declarations: list[Declaration]
) -> dict[int, _Ahead]:
    """Insert the incidents of these declarations with three statements in all: find
    the requests already declared, take the numbers, insert the incidents.

    Declarations are told apart by identity (`id()`). A retried request gets the id of
    the incident it declared; an invalid one gets None (its `declare` raises); a
    request repeated within the batch gets the id of its first copy's incident.
    """
    keys = [d.request_key for d in declarations if d.request_key]
    known = incident_ids_by_request(session, request_keys=keys)
    out: dict[int, _Ahead] = {}
    fresh: list[tuple[Declaration, str, str]] = []
    first: dict[str, Declaration] = {}
    repeats: list[tuple[Declaration, Declaration]] = []
    for d in declarations:
        if d.request_key in known:
            out[id(d)] = known[d.request_key]
            continue
        try:
            severity, area = validate(config, d)
        except UserError:
            out[id(d)] = None
            continue
        if d.request_key is not None:
            if d.request_key in first:
                repeats.append((d, first[d.request_key]))
                continue
            first[d.request_key] = d
        fresh.append((d, severity, area))
    if fresh:
        now = db_now(session)
        numbers = take_incident_numbers(session, len(fresh))
        incidents = insert_incidents(
            session,
            [
                _row(config, d, severity=severity, area=area, number=number, now=now)
                for (d, severity, area), number in zip(fresh, numbers, strict=True)
            ],
        )
        for (d, _, _), incident in zip(fresh, incidents, strict=True):
            out[id(d)] = _Opened(incident, now)
    for d, original in repeats:
        opened = out[id(original)]
        assert isinstance(opened, _Opened)  # noqa: S101 - fresh above
        out[id(d)] = opened.incident.id
    return out


def _row(
    config: Config, d: Declaration, *, severity: str, area: str, number: int, now: datetime
) -> dict[str, object]:
    title = d.title.strip()
    return {
        "number": number,
        "title": title,
        "description": d.description.strip(),
        "severity": severity,
        "area": area,
        "service": d.service,
        "declared_by": d.declared_by,
        "declared_at": now,
        "response_deadline": response_deadline(config, severity, now),
        "channel_name": channel_name(number, title),
        "request_key": d.request_key,
    }


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
