"""Rolling a service back: plan it (who may, from what, to what), start it, finish it.

A rollback is asked for from an incident (the `Rollback` button, `/incident rollback`)
or by a drill (`bot.incidents.drills`, no incident). Starting one is one transaction
with the incident locked: the `Rollback` row, its timeline entry and audit record, and
the outbox row that carries the signed webhook (`bot.delivery.effects.webhook`). The
URL and the secret are read from the config when the row is delivered, never taken from
what a user typed. Finishing one (the receiver answered, or the outbox gave up) updates
the row once and tells the incident channel, or for a drill the Responsible team.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlmodel import Session, col

from bot.audit import trail
from bot.config.model import Config
from bot.config.model import Rollback as RollbackHook
from bot.core.deploys import rollback_target
from bot.core.escaping import escape
from bot.core.permissions import Decision, may
from bot.core.pii import redact_for
from bot.core.rollback import truncated
from bot.incidents.changes import id_of, open_for_change
from bot.incidents.errors import UserError
from bot.incidents.permitted import facts_of
from bot.incidents.records import record
from bot.incidents.typed import typed_text
from bot.messages.permissions import refusal
from bot.store.db import db_now
from bot.store.deploys import history
from bot.store.incidents import get_incident
from bot.store.outbox import Message, enqueue
from bot.store.tables import Deploy, Incident, Rollback

KIND = "rollback_webhook"  # the outbox effect that sends the signed webhook
REPORT = "rollback_report"  # the outbox effect that tells a drill's outcome to a team
REASON_LIMIT = 500


class AlreadyRunningError(UserError):
    """A rollback of this incident is running: a second one starts nothing."""

    def __init__(self) -> None:
        super().__init__("A rollback is already running; wait for its outcome in the channel.")


@dataclass(frozen=True)
class Plan:
    """What a rollback of `service` would do: from `current` to `target` (None: no
    previous version is known, so nothing can be sent)."""

    service: str
    environment: str
    current: str | None
    target: str | None


@dataclass(frozen=True)
class Refusal:
    """`user` may not roll back; `allowed` may; `message` says so (`permissions.rollback`)."""

    user: str
    allowed: list[str]
    message: str


def rollback_hook(config: Config, service: str) -> RollbackHook:
    """The `rollback` block of `service`, or a UserError saying how to get one."""
    found = config.services.get(service)
    if found is None:
        known = ", ".join(f"`{name}`" for name in config.services) or "none"
        raise UserError(f"There is no service `{escape(service)}` in the config (known: {known}).")
    if found.rollback is None:
        raise UserError(
            f"`{service}` has no rollback webhook. Add `rollback: {{url: ..., secret_env: ...}}`"
            f" under `services.{service}` in the config to enable it."
        )
    return found.rollback


def plan_for(session: Session, config: Config, service: str) -> Plan:
    """From which version to which a rollback of `service` would go now."""
    hook = rollback_hook(config, service)
    known = rollback_target(history(session, service=service, environment=hook.environment))
    return Plan(service, hook.environment, known.current, known.target)


def _incident_service(config: Config, incident: Incident, service: str | None) -> str:
    chosen = service or incident.service
    if not chosen:
        raise UserError(
            f"{incident.ref} names no service. Say which: `/incident rollback <service>`."
        )
    return chosen


def _lead(incident: Incident, service: str) -> str | None:
    """The incident lead, who may roll back the incident's own service only: anyone can
    make themselves lead of some incident, and must not gain every service by it."""
    return incident.lead if service == incident.service else None


def _decision(
    config: Config, incident: Incident, *, user: str, service: str, now: datetime
) -> Decision:
    """`permissions.rollback` for `service`, read against the service's area (which may
    not be the incident's)."""
    facts = replace(
        facts_of(incident, now=now),
        area=config.services[service].area,
        lead=_lead(incident, service),
    )
    return may("rollback", user, facts, config)


def _refused(
    session: Session,
    config: Config,
    incident: Incident,
    decision: Decision,
    *,
    user: str,
    service: str,
    now: datetime,
) -> Refusal:
    trail.audit(
        session,
        at=now,
        actor=user,
        action="rollback.refused",
        object=incident.ref,
        outcome="refused",
        incident_id=id_of(incident),
        detail={"service": service, "rule": list(decision.rule), "who_may": list(decision.who_may)},
    )
    return Refusal(user, list(decision.who_may), refusal(config, "rollback", decision))


def prepare(
    session: Session, config: Config, *, incident_id: int, user: str, service: str | None
) -> Plan | Refusal:
    """What the confirmation shows: the plan, or a refusal (audited) if `user` may not."""
    incident, now = open_for_change(session, incident_id)
    chosen = _incident_service(config, incident, service)
    rollback_hook(config, chosen)
    decision = _decision(config, incident, user=user, service=chosen, now=now)
    if not decision.allowed:
        return _refused(session, config, incident, decision, user=user, service=chosen, now=now)
    return plan_for(session, config, chosen)


@dataclass(frozen=True)
class Started:
    """A rollback row written, with its webhook queued."""

    rollback: Rollback
    plan: Plan


def start(
    session: Session,
    config: Config,
    *,
    incident_id: int,
    user: str,
    service: str,
    reason: str,
    shown: Plan,
) -> Started | Refusal:
    """Confirmed: write the rollback and queue its webhook, unless one is running, the
    user may not, or the versions changed since the confirmation was shown."""
    incident, now = open_for_change(session, incident_id)
    reason = typed_text(reason, what="reason", limit=REASON_LIMIT, field="reason")
    reason = redact_for(config, service, reason)
    rollback_hook(config, service)
    decision = _decision(config, incident, user=user, service=service, now=now)
    if not decision.allowed:
        return _refused(session, config, incident, decision, user=user, service=service, now=now)
    plan = plan_for(session, config, service)
    lock_service(session, service)
    if in_flight(session, service=service, environment=plan.environment, now=now) is not None:
        raise AlreadyRunningError
    if plan.target is None:
        raise UserError(f"`{service}` has no previous version to roll back to.", field="reason")
    if (plan.current, plan.target) != (shown.current, shown.target):
        raise UserError(
            "The deploys changed since this was opened; open the rollback again.", field="reason"
        )
    row = insert_rollback(
        session, plan, incident=incident, user=user, reason=reason, now=now, dry_run=False
    )
    record(
        session,
        incident,
        "rollback_started",
        at=now,
        actor=user,
        post=True,
        rollback=row.id,
        service=service,
        environment=plan.environment,
        from_version=plan.current,
        to_version=plan.target,
        reason=reason,
    )
    return Started(row, plan)


def insert_rollback(
    session: Session,
    plan: Plan,
    *,
    incident: Incident | None,
    user: str,
    reason: str,
    now: datetime,
    dry_run: bool,
    report: list[dict[str, str]] | None = None,
) -> Rollback:
    """The running Rollback row and the outbox row that sends its webhook."""
    row = Rollback(
        incident_id=None if incident is None else id_of(incident),
        service=plan.service,
        environment=plan.environment,
        from_version=plan.current,
        to_version=plan.target,
        requested_by=user,
        reason=reason,
        dry_run=dry_run,
        webhook_id=f"msg_{secrets.token_urlsafe(18)}",
        requested_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None  # noqa: S101 - flushed
    enqueue(
        session,
        [
            Message(
                KIND,
                f"rollback:{row.id}",
                {"rollback": row.id, "report": report or []},
                row.incident_id,
            )
        ],
        now=now,
    )
    return row


IN_FLIGHT = timedelta(hours=1)  # how long a rollback answered 2xx waits for its deploy


def lock_service(session: Session, service: str) -> None:
    """Serialise rollbacks of `service` until the transaction ends: two incidents of one
    service may ask at once. (SQLite has one writer at a time already.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"rollback:{service}"}
        )


def in_flight(
    session: Session, *, service: str, environment: str, now: datetime
) -> Rollback | None:
    """A rollback of this service and environment still under way, from any incident:
    its webhook running, or answered 2xx within `IN_FLIGHT` and its deploy not reported
    yet (until then the versions still read as before it, and a second click would send
    the same rollback again)."""
    linked = select(col(Deploy.rollback_id)).where(col(Deploy.rollback_id).is_not(None))
    return (
        session.execute(
            select(Rollback).where(
                col(Rollback.service) == service,
                col(Rollback.environment) == environment,
                col(Rollback.dry_run).is_(False),
                (col(Rollback.state) == "running")
                | (
                    (col(Rollback.state) == "succeeded")
                    & (col(Rollback.requested_at) > now - IN_FLIGHT)
                    & col(Rollback.id).not_in(linked)
                ),
            )
        )
        .scalars()
        .first()
    )


def get_rollback(session: Session, *, rollback_id: int) -> Rollback | None:
    """One rollback row."""
    return session.get(Rollback, rollback_id)


def finish(
    session: Session,
    *,
    rollback_id: int,
    succeeded: bool,
    status_code: int | None,
    duration_ms: int | None,
    message: str,
    report: Sequence[dict[str, str]] = (),
) -> None:
    """Record how a rollback ended, once: the row, the timeline or the audit trail, and
    for a drill a report to each of `report` (`{"channel": C}` or `{"user": U}`)."""
    now = db_now(session)
    message = truncated(message)
    changed = (
        session.connection()
        .execute(
            update(Rollback)
            .where(col(Rollback.id) == rollback_id, col(Rollback.state) == "running")
            .values(
                state="succeeded" if succeeded else "failed",
                finished_at=now,
                status_code=status_code,
                duration_ms=duration_ms,
                message=message,
            )
        )
        .rowcount
    )
    if not changed:
        return  # finished already (a repeated delivery)
    row = session.get(Rollback, rollback_id, populate_existing=True)
    assert row is not None  # noqa: S101 - just updated
    facts = {
        "rollback": rollback_id,
        "service": row.service,
        "environment": row.environment,
        "from_version": row.from_version,
        "to_version": row.to_version,
        "succeeded": succeeded,
        "status_code": status_code,
        "duration_ms": duration_ms,
        "message": message,
        "dry_run": row.dry_run,
    }
    incident = (
        None if row.incident_id is None else get_incident(session, incident_id=row.incident_id)
    )
    if incident is not None:
        record(session, incident, "rollback_finished", at=now, actor="firebell", post=True, **facts)
        return
    audit(session, at=now, actor="firebell", action="rollback.finished", incident=None, **facts)
    reports = [
        Message(
            REPORT,
            f"rollback:{rollback_id}:" + ":".join(to.values()),
            {"rollback": rollback_id, **to},
        )
        for to in report
    ]
    enqueue(session, reports, now=now)


def report_to(config: Config, service: str) -> list[dict[str, str]]:
    """Whom a drill's outcome is told: the Responsible team's channel, else its members."""
    found = config.services.get(service)
    team = None if found is None else config.teams.get(config.areas[found.area].responsible)
    if team is None:
        return []
    if team.channel:
        return [{"channel": team.channel}]
    return [{"user": user} for user in team.members]


def audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    incident: Incident | None,
    **detail: object,
) -> None:
    """An audit record of its own (a refusal, a drill's outcome: no timeline entry)."""
    iid = None if incident is None else id_of(incident)
    ref = {} if incident is None else {"incident": incident.ref}
    trail.audit(
        session,
        at=at,
        actor=actor,
        action=action,
        outcome="refused" if action.endswith(".refused") else "ok",
        incident_id=iid,
        detail={**ref, **detail},
    )
