"""Enforcing `permissions:` in the use cases, and auditing every refusal.

A use case calls `require` once it holds the incident's lock (so it decides on the
incident as it is, whatever else runs at once); a refusal raises `NotPermittedError`,
which rolls the use case's transaction back. The refusal's audit record is written by
`Runtime.run` in a small transaction of its own (`record_refusal`), so it stays
however the refused one ended.

Resolving is guarded by the incident's peak severity (`peak_of`), read from its
`severity_changed` timeline entries under the same lock: the timeline already holds
every severity it had, so no column has to be kept in step with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.audit.trail import audit
from bot.config.model import Config
from bot.core.permissions import Action, Decision, IncidentFacts, may, peak_severity
from bot.incidents.errors import UserError
from bot.messages.permissions import refusal
from bot.store.db import db_now
from bot.store.incidents import lock_incident
from bot.store.tables import Incident, TimelineEntry


class NotPermittedError(UserError):
    """The user may not do this; the message names who may and what to do."""

    def __init__(
        self,
        config: Config,
        *,
        action: Action,
        attempted: str,
        actor: str,
        incident: Incident,
        decision: Decision,
    ) -> None:
        super().__init__(
            refusal(config, action, decision, attempted=attempted, severity=incident.severity)
        )
        self.action = action
        self.attempted = attempted
        self.actor = actor
        self.incident_id = incident.id
        self.ref = incident.ref
        self.decision = decision


def facts_of(incident: Incident, *, now: datetime) -> IncidentFacts:
    """The incident's facts a permission depends on."""
    declarer = incident.declared_by if incident.origin is None else None
    return IncidentFacts(area=incident.area, lead=incident.lead, declared_by=declarer, at=now)


def require(
    config: Config,
    incident: Incident,
    *,
    action: Action | None,
    attempted: str,
    actor: str,
    now: datetime,
) -> None:
    """Raise NotPermittedError unless `actor` may do `action` (None: anyone may).

    `attempted` is the audit action of what was tried (`incident.resolved`)."""
    if action is None:
        return
    decision = may(action, actor, facts_of(incident, now=now), config)
    if not decision.allowed:
        raise NotPermittedError(
            config,
            action=action,
            attempted=attempted,
            actor=actor,
            incident=incident,
            decision=decision,
        )


def require_first(
    session: Session,
    config: Config,
    *,
    incident_id: int,
    action_of: Callable[[Incident], Action | None],
    attempted: str,
    actor: str,
) -> None:
    """Lock the incident and refuse unless `actor` may, before anything else about it is
    checked: whoever may not is told so whether or not someone else got there first."""
    incident = lock_incident(session, incident_id=incident_id)
    if incident is not None:
        action = action_of(incident)
        require(
            config, incident, action=action, attempted=attempted, actor=actor, now=db_now(session)
        )


def peak_of(session: Session, incident: Incident) -> str:
    """The highest severity `incident` ever had: now, or before or after any change."""
    rows = session.execute(
        select(col(TimelineEntry.data)).where(
            col(TimelineEntry.incident_id) == incident.id,
            col(TimelineEntry.kind) == "severity_changed",
        )
    ).scalars()
    return peak_severity(incident.severity, [(str(d["from"]), str(d["to"])) for d in rows])


def record_refusal(session: Session, err: NotPermittedError, *, source: str = "slack") -> None:
    """The refusal's audit record, in a transaction of its own."""
    audit(
        session,
        at=db_now(session),
        actor=err.actor,
        action=err.attempted,
        object=err.ref,
        source=source,
        outcome="refused",
        incident_id=err.incident_id,
        detail={
            "permission": err.action,
            "rule": list(err.decision.rule),
            "who_may": list(err.decision.who_may),
        },
    )
