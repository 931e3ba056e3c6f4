"""Queries over sign-offs and stage moves, and the lock that serialises a service's.

A sign-off and a stage move of one service take the advisory lock `governance:<service>`
(PostgreSQL; SQLite has one writer already), then read and write: two clicks of one
`Sign off` button record one row, and two moves at once apply one after the other.
"Newest" is the highest id, not the latest `at`: ids are taken under the lock, so they
follow the order the writes were made in, while two transactions' clocks
(`db_now`, the transaction's start) need not.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.governance import STAGES, Stage
from bot.config.model import Config
from bot.governance.checklist import SignedOff
from bot.governance.stages import START
from bot.store.alerts import lock_name
from bot.store.tables import SignOff, StageChange


def lock_service(session: Session, service: str) -> None:
    """Hold the service's governance lock until the transaction ends."""
    lock_name(session, f"governance:{service}")


def latest_signoffs(session: Session, *, service: str) -> list[SignedOff]:
    """The newest sign-off of each role of the service."""
    rows = session.execute(
        select(SignOff).where(col(SignOff.service) == service).order_by(col(SignOff.id).desc())
    ).scalars()
    latest: dict[str, SignedOff] = {}
    for row in rows:
        latest.setdefault(row.role, SignedOff(row.role, row.user_id, row.at, row.config_hash))
    return list(latest.values())


def recorded_stage(session: Session, *, service: str) -> StageChange | None:
    """The service's newest stage move, if any."""
    return (
        session.execute(
            select(StageChange)
            .where(col(StageChange.service) == service)
            .order_by(col(StageChange.id).desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def configured_stage(config: Config, service: str) -> Stage | None:
    """The stage the config starts the service at, if it names one."""
    settings = config.services.get(service)
    return None if settings is None else settings.stage


def current_stage(session: Session, config: Config, *, service: str) -> Stage | None:
    """The service's stage: its newest move, else the config's `stage`; None for a
    service that names no stage and was never moved."""
    moved = recorded_stage(session, service=service)
    if moved is not None and moved.to_stage in STAGES:
        return STAGES[STAGES.index(moved.to_stage)]
    return configured_stage(config, service)


def stage_or_start(session: Session, config: Config, *, service: str) -> Stage:
    """`current_stage`, where a service without one is at the start."""
    return current_stage(session, config, service=service) or START
