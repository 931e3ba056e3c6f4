"""Retention: records older than `audit.retention` are deleted, oldest first, and the
chain's anchor moves to the last one deleted, so what is kept still verifies.

A prune deletes the chain's oldest records up to the first one still within retention
(records are appended in commit order, their times nearly so), in the transaction that
moves the anchor: the trail is never left without a start. It first verifies what it
is about to delete and refuses if that part is broken, so pruning never erases the
evidence of a change. It deletes at most `BATCH` records a transaction, verified as they
stream by, so the first prune of a trail of years neither holds its locks for long nor
reads the trail into memory; while more remain, the next runs a minute later (or, for
`firebell audit prune`, at once). The anchor moves at the commit, with the head row
locked last as for any append (`bot.audit.trail`); records up to the head it read are
committed and no append touches them, so it needs no lock before.

Pruning runs daily as the deadline kind `audit_prune` (one row of no incident, key
`audit:prune`, planned at start-up while `audit.retention` is set), and on demand with
`firebell audit prune`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import bindparam, delete, func, select
from sqlmodel import Session, col

from bot.audit.chain import Missing, Point, Problem, problem_facts, walk
from bot.audit.records import chain_ends, links
from bot.audit.trail import audit, move_anchor
from bot.config.model import Config
from bot.store.db import db_now
from bot.store.deadlines import add_deadline, cancel_deadline, pending_deadline, plan_once
from bot.store.tables import AuditRecord, Deadline, Incident

log = logging.getLogger(__name__)
PRUNE = "audit_prune"  # the deadline kind
PRUNE_KEY = "audit:prune"
EVERY = timedelta(days=1)
BATCH = 5000  # records a prune deletes in one transaction
SOON = timedelta(minutes=1)  # the next prune, while more than a batch is old enough

_FIRST_KEPT = select(func.min(AuditRecord.seq)).where(
    col(AuditRecord.seq) > bindparam("after"), col(AuditRecord.at) >= bindparam("cutoff")
)
_DELETE = delete(AuditRecord).where(
    col(AuditRecord.seq) > bindparam("after"), col(AuditRecord.seq) <= bindparam("upto")
)


@dataclass(frozen=True)
class Pruned:
    """What a prune did: records deleted up to seq `anchor.seq` (0 deleted: nothing was
    old enough), whether more are old enough (`more`: a batch was full), or the problem
    that stopped it."""

    deleted: int
    anchor: Point
    cutoff: datetime
    problem: Problem | None = None
    more: bool = False


def prune(
    session: Session, *, retention: timedelta, actor: str, source: str, batch: int = BATCH
) -> Pruned:
    """Delete the oldest records older than `retention`, at most `batch` of them, and
    move the anchor at the commit; an audit record says what was done (or why not).

    At most `batch`: the first prune of a trail of years must not hold its locks (and
    the records it checks) for long; the caller runs another transaction while `more`.
    """
    now = db_now(session)
    cutoff = now - retention
    pruned = partial(
        audit, session, at=now, actor=actor, action="audit.pruned", object="audit", source=source
    )
    ends = chain_ends(session)  # records up to its head are committed: none changes
    anchor = ends.anchor
    first_kept = (
        session.connection()
        .execute(_FIRST_KEPT, {"after": anchor.seq, "cutoff": cutoff})
        .scalar_one_or_none()
    )
    old_enough = ends.head.seq if first_kept is None else int(first_kept) - 1
    upto = min(old_enough, anchor.seq + max(batch, 1))
    if upto <= anchor.seq:
        return Pruned(0, anchor, cutoff)
    # Verified as it streams by: only the last record reached is kept.
    walked = walk(links(session, after=anchor.seq, upto=upto), anchor)
    problem = walked.problem
    if problem is None and walked.last.seq != upto:
        problem = Missing(walked.last.seq, upto + 1)  # the last ones to prune are gone
    if problem is not None:
        log.error("audit trail: not pruned, the records to prune are broken: %s", problem)
        pruned(outcome="failed", detail=problem_facts(problem))
        return Pruned(0, anchor, cutoff, problem)
    last = walked.last
    params = {"after": anchor.seq, "upto": upto}
    deleted = int(session.connection().execute(_DELETE, params).rowcount)
    move_anchor(session, last)
    more = upto < old_enough
    facts = {"deleted": deleted, "upto": last.seq, "cutoff": cutoff.isoformat(), "more": more}
    pruned(detail=facts)
    return Pruned(deleted, last, cutoff, more=more)


def schedule_pruning(session: Session, config: Config) -> int:
    """Keep the daily prune's row pending while `audit.retention` is set (cancel it when
    not); return how many rows were added."""
    pending = pending_deadline(session, key=PRUNE_KEY)
    if config.audit.retention is None:
        if pending is not None:
            assert pending.id is not None  # noqa: S101 - read from the database
            cancel_deadline(session, deadline_id=pending.id)
        return 0
    if pending is not None:
        return 0
    due = db_now(session) + timedelta(minutes=1)  # soon: a retention just shortened acts
    return int(plan_once(session, key=PRUNE_KEY, kind=PRUNE, due_at=due, data={}))


def fire_prune(
    session: Session, config: Config, _deadline: Deadline, _incident: Incident | None, now: datetime
) -> None:
    """The daily prune is due: prune a batch (while retention is set) and plan the next:
    in a minute while more are old enough, else in a day."""
    retention = config.audit.retention
    if retention is None:
        return
    done = prune(session, retention=retention, actor="firebell", source="scheduler", batch=BATCH)
    add_deadline(session, key=PRUNE_KEY, kind=PRUNE, due_at=now + (SOON if done.more else EVERY))
