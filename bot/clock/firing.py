"""Firing due deadlines: claim, mark fired and act, in one transaction.

Use cases lock an incident and then its deadlines; firing holds deadlines first, so it
must not wait for an incident (that would deadlock with an ack). Incidents held by
another transaction are skipped and their deadlines reported `busy`, to be tried again
a moment later; they stay due.

The batch acts inside one savepoint. Should a handler fail (a bug, logged), the
savepoint is rolled back and the batch acts again with a savepoint per deadline, so
the failing one is left due for the next poll and does not undo the others; each
handler acts at most twice, and only what commits counts.

The next wake-up is for the earliest deadline due *after* now: one already due that
this transaction could not claim is held by another replica's firing, or by a use case
cancelling it, and either settles it (should it roll back instead, the next poll finds
the row); a replica spinning on rows another is firing would starve it of CPU. A row
this transaction added counts even if already due (a missed step, caught up).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.audit.trail import act_from, audit
from bot.clock.kinds import Kinds
from bot.config.model import Config
from bot.store.db import db_now
from bot.store.deadlines import NEXT_DUE, lock_due, mark_fired, next_due_at
from bot.store.incidents import lock_incidents
from bot.store.tables import Deadline, Incident

log = logging.getLogger(__name__)
Ready = Sequence[tuple[Deadline, Incident | None]]  # claimed deadlines and their incidents


@dataclass(frozen=True)
class Firing:
    """What one `fire_due` transaction did, by deadline id."""

    fired: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)  # their incident was held elsewhere
    failed: list[int] = field(default_factory=list)  # their handler raised
    late: list[tuple[str, float]] = field(default_factory=list)  # fired: kind, seconds late
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
    act_from(session, "scheduler")
    due = lock_due(session, now=now, limit=limit, kinds=kinds.keys(), skip=skip)
    if not due:
        return Firing(upcoming=_upcoming(session, kinds, now))
    ids = {d.incident_id for d in due if d.incident_id is not None}
    incidents = lock_incidents(session, incident_ids=ids)
    held = ids - incidents.keys()
    ready = [
        (d, None if d.incident_id is None else incidents[d.incident_id])
        for d in due
        if d.incident_id not in held
    ]
    act = _Acting(session, config, kinds, now=now, owner=owner)
    fired, failed = act.together(ready) or act.apart(ready)
    full = len(due) == limit
    done = set(fired)
    return Firing(
        fired=fired,
        late=[(d.kind, (now - d.due_at).total_seconds()) for d, _ in ready if _id(d) in done],
        busy=[_id(d) for d in due if d.incident_id in held],
        failed=failed,
        full=full,
        upcoming=None if full else _upcoming(session, kinds, now),
    )


@dataclass(frozen=True)
class _Acting:
    """Marks claimed deadlines fired and runs their handlers, in savepoints."""

    session: Session
    config: Config
    kinds: Kinds
    now: datetime
    owner: str

    def together(self, ready: Ready) -> tuple[list[int], list[int]] | None:
        """Act on all in one savepoint: (fired ids, []), or None if a handler failed."""
        if self._in_savepoint(ready) is not None:
            log.warning("a deadline handler failed; firing the batch one by one")
            return None
        return [_id(d) for d, _ in ready], []

    def apart(self, ready: Ready) -> tuple[list[int], list[int]]:
        """Act on each in a savepoint of its own: (fired ids, failed ids)."""
        fired: list[int] = []
        failed: list[int] = []
        for deadline, incident in ready:
            error = self._in_savepoint([(deadline, incident)])
            if error is None:
                fired.append(_id(deadline))
                continue
            log.error(
                "deadline %s (%s) failed; it stays due", deadline.id, deadline.key, exc_info=error
            )
            _audit(self.session, deadline, incident, self.now, failed=type(error).__name__)
            failed.append(_id(deadline))
        return fired, failed

    def _in_savepoint(self, ready: Ready) -> Exception | None:
        """Act in a savepoint; on failure roll it back, with what it noted for after the
        commit (a wake-up for a row it added, say), and return the error."""
        noted = dict(self.session.info)
        try:
            with self.session.begin_nested():
                self._act(ready)
        except Exception as error:
            self.session.info.clear()
            self.session.info.update(noted)
            return error
        return None

    def _act(self, ready: Ready) -> None:
        # No longer pending from here: a handler's schedule may add the next row.
        mark_fired(self.session, ids=[_id(d) for d, _ in ready], now=self.now, owner=self.owner)
        for deadline, incident in ready:
            self.kinds[deadline.kind](self.session, self.config, deadline, incident, self.now)
            _audit(self.session, deadline, incident, self.now)


def _audit(
    session: Session,
    deadline: Deadline,
    incident: Incident | None,
    now: datetime,
    *,
    failed: str | None = None,
) -> None:
    """The audit record of a deadline fired (or failed: the error's type, it stays due)."""
    audit(
        session,
        at=now,
        actor="firebell",
        action=f"deadline.{deadline.kind}",
        object=deadline.key if incident is None else incident.ref,
        source="scheduler",
        outcome="ok" if failed is None else "failed",
        incident_id=deadline.incident_id,
        detail={"deadline": deadline.id, "due_at": deadline.due_at.isoformat()}
        | ({} if failed is None else {"error": failed}),
    )


def _id(deadline: Deadline) -> int:
    assert deadline.id is not None  # noqa: S101 - read from the database
    return deadline.id


def _upcoming(session: Session, kinds: Kinds, now: datetime) -> datetime | None:
    """When the earliest pending deadline due after `now`, or added here, is due."""
    later = next_due_at(session, kinds=kinds.keys(), after=now)
    added: datetime | None = session.info.get(NEXT_DUE)  # a catch-up step may be due now
    return min((t for t in (later, added) if t is not None), default=None)
