"""The ticks of runbook steps in an incident: read them, and set one as a click left it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.store.tables import IncidentMessage, RunbookStep


def ticked_steps(session: Session, *, incident_id: int, runbook: str) -> set[str]:
    """The keys of the steps of `runbook` ticked in the incident now."""
    rows = session.execute(
        select(col(RunbookStep.step)).where(
            col(RunbookStep.incident_id) == incident_id,
            col(RunbookStep.runbook) == runbook,
            col(RunbookStep.ticked).is_(True),
        )
    )
    return set(rows.scalars())


def set_step(
    session: Session,
    *,
    incident_id: int,
    runbook: str,
    step: str,
    ticked: bool,
    by: str,
    at: datetime,
) -> None:
    """Store step `step` of `runbook` as ticked (or not) by `by` at `at`.

    Callers hold the incident's lock, so no other transaction writes its steps meanwhile.
    """
    row = session.execute(
        select(RunbookStep).where(
            col(RunbookStep.incident_id) == incident_id,
            col(RunbookStep.runbook) == runbook,
            col(RunbookStep.step) == step,
        )
    ).scalar_one_or_none()
    if row is None:
        row = RunbookStep(incident_id=incident_id, runbook=runbook, step=step, by=by, at=at)
    row.ticked, row.by, row.at = ticked, by, at
    session.add(row)
    session.flush()


def runbook_messages(session: Session, *, incident_id: int, runbook: str) -> list[IncidentMessage]:
    """The posted messages of `runbook` in the incident that show its steps."""
    rows = session.execute(
        select(IncidentMessage)
        .where(
            col(IncidentMessage.incident_id) == incident_id,
            col(IncidentMessage.role).startswith(f"runbook:{runbook}:", autoescape=True),
        )
        .order_by(col(IncidentMessage.id))
    )
    return [m for m in rows.scalars() if m.data.get("steps")]
