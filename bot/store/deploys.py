"""Queries over deploys: recording one once, a service's history, the rollback it did."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.core.deploys import DeployFact
from bot.core.states import State
from bot.store.tables import Deploy, Incident, Rollback

# `ON CONFLICT DO NOTHING` on the fingerprint: two requests with the same body, even at
# the same moment, record one deploy, and the second transaction is not aborted by a
# unique violation (PostgreSQL would refuse every later statement of it).
_INSERTS = {
    dialect: make_insert(Deploy)
    .on_conflict_do_nothing(index_elements=["fingerprint"])
    .returning(col(Deploy.id))
    for dialect, make_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def insert_deploy(session: Session, **values: Any) -> int | None:
    """Insert a deploy and return its id; None when one with its fingerprint exists."""
    statement = _INSERTS[session.get_bind().dialect.name]
    inserted = session.connection().execute(statement, values)
    found: int | None = inserted.scalar_one_or_none()
    return found


def deploy_by_fingerprint(session: Session, *, fingerprint: str) -> Deploy | None:
    """The deploy recorded for this fingerprint, if any."""
    return session.execute(
        select(Deploy).where(col(Deploy.fingerprint) == fingerprint)
    ).scalar_one_or_none()


def rollback_awaiting(
    session: Session, *, service: str, environment: str, version: str
) -> Rollback | None:
    """The newest running or succeeded, non-dry-run rollback of this service and
    environment to `version` that no deploy carried out yet."""
    linked = select(col(Deploy.rollback_id)).where(col(Deploy.rollback_id).is_not(None))
    return session.execute(
        select(Rollback)
        .where(
            col(Rollback.service) == service,
            col(Rollback.environment) == environment,
            col(Rollback.to_version) == version,
            col(Rollback.state).in_(["running", "succeeded"]),
            col(Rollback.dry_run).is_(False),
            col(Rollback.id).not_in(linked),
        )
        .order_by(col(Rollback.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def link_rollback(session: Session, *, deploy_id: int, rollback_id: int) -> None:
    """Record that deploy `deploy_id` carried out rollback `rollback_id`."""
    deploy = session.get(Deploy, deploy_id)
    if deploy is not None:
        deploy.rollback_id = rollback_id
        session.add(deploy)
        session.flush()


def deploys_of(session: Session, *, service: str) -> dict[str, list[Deploy]]:
    """Every deploy of a service by environment, oldest first (by time, then arrival)."""
    rows = session.execute(
        select(Deploy)
        .where(col(Deploy.service) == service)
        .order_by(col(Deploy.environment), col(Deploy.at), col(Deploy.id))
    ).scalars()
    by_environment: dict[str, list[Deploy]] = {}
    for row in rows:
        by_environment.setdefault(row.environment, []).append(row)
    return by_environment


def history(session: Session, *, service: str, environment: str) -> list[DeployFact]:
    """A service's deploys in one environment, oldest first, as `rollback_target`
    reads them."""
    rows = session.execute(
        select(col(Deploy.version), col(Deploy.at), col(Rollback.from_version))
        .outerjoin(Rollback, col(Deploy.rollback_id) == col(Rollback.id))
        .where(col(Deploy.service) == service, col(Deploy.environment) == environment)
        .order_by(col(Deploy.at), col(Deploy.id))
    ).all()
    return [DeployFact(version, at, rolled_back_from) for version, at, rolled_back_from in rows]


def histories(
    session: Session, *, places: Collection[tuple[str, str]]
) -> dict[tuple[str, str], list[DeployFact]]:
    """`history` of each (service, environment)."""
    return {
        (service, environment): history(session, service=service, environment=environment)
        for service, environment in places
    }


def open_incidents_of(session: Session, *, service: str) -> Sequence[Incident]:
    """The incidents of this service that are not resolved, locked in id order."""
    return (
        session.execute(
            select(Incident)
            .where(col(Incident.service) == service, col(Incident.state) != State.RESOLVED.value)
            .order_by(col(Incident.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
