"""Review reminders: a runbook with `reviewed` and `review_every` is reminded to its
owner team when the review is due, then every `review_every` until it is reviewed.

Each runbook's schedule is one deadline row of no incident, key `runbook:<name>:review`.
`schedule_reviews` runs at start-up: it keeps a pending row planned for the runbook's
current `reviewed` and `review_every`, re-plans one planned for older values, and adds
one where none is pending (due at once for a runbook already stale). Replicas starting
together race for the pending key's unique index; the loser keeps the winner's row.
The row's data holds what the reminder needs, so firing it needs no runbook files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from bot.audit.trail import audit
from bot.config.model import Config
from bot.runbooks import Runbook
from bot.store.db import db_now
from bot.store.deadlines import add_deadline, cancel_deadline, pending_deadline, plan_once
from bot.store.outbox import Message, enqueue
from bot.store.tables import Deadline, Incident

log = logging.getLogger(__name__)
REVIEW = "runbook_review"  # deadline kind, and the outbox kind of its reminders


def review_key(runbook: str) -> str:
    """The schedule of one runbook's review reminders."""
    return f"runbook:{runbook}:review"


def review_due(reviewed: date, every: timedelta) -> datetime:
    """When a review done on `reviewed` is due again (midnight UTC of that day)."""
    return datetime.combine(reviewed, time(), tzinfo=UTC) + every


def schedule_reviews(session: Session, runbooks: Mapping[str, Runbook]) -> int:
    """Plan the next review reminder of every runbook that has a review cycle (see the
    module's doc); cancel those of runbooks that no longer have one. Return how many
    rows were added."""
    now = db_now(session)
    wanted: dict[str, dict[str, object]] = {}
    for runbook in runbooks.values():
        meta = runbook.meta
        if meta.reviewed is not None and meta.review_every is not None:
            wanted[review_key(runbook.name)] = {
                "runbook": runbook.name,
                "title": runbook.title,
                "owner": meta.owner,
                "reviewed": meta.reviewed.isoformat(),
                "every": meta.review_every.total_seconds(),
            }
    pending = session.execute(
        select(Deadline).where(
            col(Deadline.kind) == REVIEW,
            col(Deadline.fired_at).is_(None),
            col(Deadline.cancelled).is_(False),
        )
    ).scalars()
    for row in list(pending):
        assert row.id is not None  # noqa: S101 - read from the database
        facts = wanted.get(row.key)
        if facts is None or any(row.data.get(k) != facts[k] for k in ("reviewed", "every")):
            cancel_deadline(session, deadline_id=row.id)  # re-planned below, if still wanted
        elif row.data != facts:
            # A new title or owner: the same plan, told with the runbook as it is now.
            plan_once(
                session, key=row.key, kind=REVIEW, due_at=row.due_at, data=facts, cancel=row.id
            )
    added = 0
    added = 0
    for key, facts in wanted.items():
        if pending_deadline(session, key=key) is not None:
            continue
        reviewed = date.fromisoformat(str(facts["reviewed"]))
        due = max(review_due(reviewed, timedelta(seconds=float(str(facts["every"])))), now)
        if plan_once(session, key=key, kind=REVIEW, due_at=due, data=facts):
            added += 1
    return added


def fire_runbook_review(
    session: Session, config: Config, deadline: Deadline, _incident: Incident | None, now: datetime
) -> None:
    """A runbook's review is due: remind its owner team (its channel, else each member
    by DM), and plan the next reminder `review_every` from now."""
    facts = deadline.data
    name = str(facts.get("runbook"))
    every = timedelta(seconds=float(facts.get("every") or 0))
    team = config.teams.get(str(facts.get("owner")))
    if team is None:
        targets: list[dict[str, str]] = []
    elif team.channel:
        targets = [{"channel": team.channel}]
    else:
        targets = [{"user": member} for member in team.members]
    messages = [
        Message(REVIEW, f"runbook:{name}:review:{next(iter(t.values()))}", {**facts, **t})
        for t in targets
    ]
    enqueue(session, messages, now=now)
    audit(
        session,
        at=now,
        actor="firebell",
        action="runbook.review_reminded",
        source="scheduler",
        detail={**facts, "to": targets},
    )
    if not targets:
        log.warning("runbook %s is due for review, but its owner team has nobody to tell", name)
    if every > timedelta(0):
        add_deadline(session, key=deadline.key, kind=REVIEW, due_at=now + every, data=facts)
