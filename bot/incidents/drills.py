"""Rollback drills: a `dry_run` rollback of each service with `rollback.drill_every`,
on that schedule, its outcome told to the area's Responsible team.

Each service's schedule is one deadline row of no incident, key
`rollback:<service>:drill`. `schedule_drills` runs at start-up: where no row is
pending it adds one due `drill_every` after the latest drill, or soon after start-up
(`FIRST_DRILL_AFTER`) for a service never drilled (a rollback path nobody has tried is
the one to find broken before an incident needs it). Replicas starting together race
for the pending key's unique index; the loser keeps the winner's row. A pending row of
a service that no longer drills is cancelled. Firing sends the drill and plans the next
one `drill_every` on. The last drill is the service's latest dry-run `Rollback` row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.load import ConfigError, load_config
from bot.config.model import Config
from bot.core.deploys import rollback_target
from bot.core.rollback import Drill, drill_warning
from bot.incidents.rollback import Plan, insert_rollback, report_to, rollback_hook
from bot.store.db import Store, db_now, make_engine
from bot.store.deadlines import add_deadline, cancel_deadline, pending_deadline, plan_once
from bot.store.deploys import history
from bot.store.tables import Deadline, Incident, Rollback

DRILL = "rollback_drill"  # the deadline kind
DRILLER = "firebell"  # who a drill is requested by


# A service never drilled is drilled this long after start-up (or after `drill_every`
# if that is shorter): its pipeline may report its deploys moments after firebell first
# starts, and a drill before then would fail for want of a version to go back to.
FIRST_DRILL_AFTER = timedelta(minutes=1)


def drill_key(service: str) -> str:
    """The schedule of one service's drills."""
    return f"rollback:{service}:drill"


def _every(config: Config, service: str) -> timedelta | None:
    found = config.services.get(service)
    return None if found is None or found.rollback is None else found.rollback.drill_every


def last_drill(session: Session, *, service: str) -> Rollback | None:
    """The service's latest dry-run rollback."""
    return (
        session.execute(
            select(Rollback)
            .where(col(Rollback.service) == service, col(Rollback.dry_run).is_(True))
            .order_by(col(Rollback.requested_at).desc(), col(Rollback.id).desc())
        )
        .scalars()
        .first()
    )


def last_success(session: Session, *, service: str) -> datetime | None:
    """When the service's latest successful drill was asked for."""
    return (
        session.execute(
            select(col(Rollback.requested_at))
            .where(
                col(Rollback.service) == service,
                col(Rollback.dry_run).is_(True),
                col(Rollback.state) == "succeeded",
            )
            .order_by(col(Rollback.requested_at).desc())
        )
        .scalars()
        .first()
    )


def schedule_drills(session: Session, config: Config) -> int:
    """Plan each drilling service's next drill where none is pending (see the module's
    doc); return how many rows were added."""
    now = db_now(session)
    pending = session.execute(
        select(Deadline).where(
            col(Deadline.kind) == DRILL,
            col(Deadline.fired_at).is_(None),
            col(Deadline.cancelled).is_(False),
        )
    ).scalars()
    for row in list(pending):
        assert row.id is not None  # noqa: S101 - read from the database
        if _every(config, str(row.data.get("service"))) is None:
            cancel_deadline(session, deadline_id=row.id)
    added = 0
    for service in config.services:
        every = _every(config, service)
        if every is None or pending_deadline(session, key=drill_key(service)) is not None:
            continue
        last = last_drill(session, service=service)
        first = now + min(FIRST_DRILL_AFTER, every)
        due = first if last is None else max(last.requested_at + every, now)
        data = {"service": service}
        if plan_once(session, key=drill_key(service), kind=DRILL, due_at=due, data=data):
            added += 1
    return added


def fire_drill(
    session: Session, config: Config, deadline: Deadline, _incident: Incident | None, now: datetime
) -> None:
    """A drill is due: send a dry-run rollback, and plan the next one."""
    service = str(deadline.data.get("service"))
    every = _every(config, service)
    if every is None:
        return  # the service stopped drilling since the row was planned
    hook = rollback_hook(config, service)
    known = rollback_target(history(session, service=service, environment=hook.environment))
    plan = Plan(service, hook.environment, known.current, known.target)
    if plan.target is None:
        # Nothing to go back to: the drill fails here, and no webhook is sent.
        session.add(
            Rollback(
                service=service,
                environment=hook.environment,
                from_version=plan.current,
                requested_by=DRILLER,
                reason="scheduled rollback drill",
                dry_run=True,
                webhook_id=f"msg_{secrets.token_urlsafe(18)}",
                state="failed",
                requested_at=now,
                finished_at=now,
                message="not sent: fewer than two deploys reported, nothing to roll back to",
            )
        )
        add_deadline(
            session,
            key=drill_key(service),
            kind=DRILL,
            due_at=now + every,
            data={"service": service},
        )
        return
    insert_rollback(
        session,
        plan,
        incident=None,
        user=DRILLER,
        reason="scheduled rollback drill",
        now=now,
        dry_run=True,
        report=report_to(config, service),
    )
    add_deadline(
        session, key=drill_key(service), kind=DRILL, due_at=now + every, data={"service": service}
    )


@dataclass(frozen=True)
class DrillStatus:
    """A service's drills as `firebell check` and the main message show them."""

    service: str
    last: Rollback | None
    warning: str | None


def drill_status(session: Session, config: Config, *, service: str) -> DrillStatus | None:
    """The service's last drill and what needs attention; None if it does not drill."""
    every = _every(config, service)
    if every is None:
        return None
    last = last_drill(session, service=service)
    facts = None
    if last is not None:
        done = None if last.state == "running" else last.state == "succeeded"
        facts = Drill(last.requested_at, done)
    warning = drill_warning(
        every=every,
        last=facts,
        last_success=last_success(session, service=service),
        now=db_now(session),
    )
    return DrillStatus(service, last, warning)


def drill_warnings(session: Session, config: Config) -> list[str]:
    """One line per drilling service whose drills need attention, for `firebell check`."""
    lines = []
    for service in config.services:
        status = drill_status(session, config, service=service)
        if status is not None and status.warning is not None:
            lines.append(f"warning: {service}: {status.warning}")
    return lines


def checked_drills(config_path: Path, database_url: str) -> list[str]:
    """`drill_warnings` read from the database at `database_url`; a line saying why
    not when it cannot be read. Nothing for a config without drills."""
    try:
        config = load_config(config_path)
    except (ConfigError, OSError):
        return []  # `check` reports the config's problems
    if not any(s.rollback and s.rollback.drill_every for s in config.services.values()):
        return []
    store = Store(make_engine(database_url))
    try:
        return store.call(drill_warnings, config)
    except Exception as err:  # an absent or unmigrated database must not fail `check`
        return [f"warning: rollback drills not checked: {type(err).__name__}"]
    finally:
        store.dispose()
