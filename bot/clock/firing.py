"""Firing due deadlines: claim, mark fired and act, in one transaction.

Use cases lock an incident and then its deadlines; firing holds deadlines first, so it
must not wait for an incident (that would deadlock with an ack). Incidents held by
another transaction are skipped and their deadlines reported `busy`, to be tried again
a moment later; they stay due. Each deadline acts inside a savepoint: one that fails
(a bug, logged) is left due for the next poll and does not undo the others.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.clock.kinds import Kinds
from bot.config.model import Config
from bot.store.db import db_now
from bot.store.deadlines import lock_due, mark_fired, next_due_at
from bot.store.incidents import lock_incidents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Firing:
    """What one `fire_due` transaction did, by deadline id."""

    fired: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)  # their incident was held elsewhere
    failed: list[int] = field(default_factory=list)  # their handler raised
    full: bool = False  # the batch was full: more may be due
    upcoming: datetime | None = None  # when not full: the earliest pending deadline left


def fire_due(
    session: Session,
    config: Config,
    *,
    kinds: Kinds,
    owner: str,
    limit: int = 50,
    skip: Collection[int] = (),
) -> Firing:
    """Fire up to `limit` due deadlines of `kinds`, earliest first, in this transaction."""
    now = db_now(session)
    due = lock_due(session, now=now, limit=limit, kinds=kinds.keys(), skip=skip)
    if not due:
        return Firing(upcoming=_upcoming(session, kinds, skip))
    incidents = lock_incidents(
        session, incident_ids={d.incident_id for d in due if d.incident_id is not None}
    )
    firing = Firing(full=len(due) == limit)
    for deadline in due:
        assert deadline.id is not None  # noqa: S101 - read from the database
        incident = None
        if deadline.incident_id is not None:
            incident = incidents.get(deadline.incident_id)
            if incident is None:
                firing.busy.append(deadline.id)
                continue
        try:
            with session.begin_nested():
                # No longer pending from here: its schedule may add its next row.
                mark_fired(session, deadline_id=deadline.id, now=now, owner=owner)
                kinds[deadline.kind](session, config, deadline, incident, now)
        except Exception:
            log.exception("deadline %s (%s) failed; it stays due", deadline.id, deadline.key)
            firing.failed.append(deadline.id)
            continue
        firing.fired.append(deadline.id)
    if firing.full:
        return firing
    left_due = {*skip, *firing.busy, *firing.failed}
    upcoming = _upcoming(session, kinds, left_due)
    return Firing(firing.fired, firing.busy, firing.failed, upcoming=upcoming)


def _upcoming(session: Session, kinds: Kinds, skip: Collection[int]) -> datetime | None:
    """The earliest pending deadline not in `skip`, counting those this transaction added."""
    session.flush()
    return next_due_at(session, kinds=kinds.keys(), skip=skip)
