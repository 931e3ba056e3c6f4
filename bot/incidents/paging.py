"""Paging people for an incident: invite, mention in the channel, DM with Acknowledge.

A person is paged at most once per escalation step of an incident: whatever asks to
page them again at the same step (a severity change, `/incident page`, a step racing
a command) finds them in the timeline and leaves them out. The next step
(`/incident escalate`, or the schedule) pages them again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.core.escaping import escape
from bot.core.raci import Page, resolve_ref
from bot.incidents import queue
from bot.incidents.changes import id_of, open_for_change
from bot.incidents.errors import UserError
from bot.incidents.records import record
from bot.store.outbox import Message
from bot.store.tables import Incident, TimelineEntry

_PAGED = select(col(TimelineEntry.data)).where(
    col(TimelineEntry.incident_id) == bindparam("incident_id"), col(TimelineEntry.kind) == "paged"
)


def paged(session: Session, incident: Incident) -> dict[str, set[int]]:
    """Everyone paged for this incident so far, with the steps they were paged at."""
    rows = session.connection().execute(_PAGED, {"incident_id": id_of(incident)}).scalars()
    steps: dict[str, set[int]] = {}
    for data in rows:
        for page in data.get("pages", []):
            steps.setdefault(str(page["user"]), set()).add(int(data.get("step", 1)))
    return steps


def page_people(
    session: Session,
    incident: Incident,
    pages: list[Page],
    *,
    actor: str,
    reason: dict[str, Any],
    step: int,
    now: datetime,
    invite: bool = True,
    announce: bool = True,
    already: dict[str, set[int]] | None = None,
) -> Paging:
    """Record a page of whoever of `pages` is not paged at `step` yet; return who, and
    the messages that page them (the caller queues them, after what must go first).

    `reason` says why, as facts (`{"cause": "escalation"}`, `{"cause": "page", "by": U}`).
    `announce=False` leaves the mention in the channel to the caller. `already` is who
    was paged before (read from the timeline when not given).
    """
    before = paged(session, incident) if already is None else already
    fresh = [p for p in pages if step not in before.get(p.user, set())]
    if not fresh:
        return Paging([], [])
    entry = record(
        session,
        incident,
        "paged",
        at=now,
        actor=actor,
        pages=[asdict(p) for p in fresh],
        step=step,
        reason=reason,
    )
    messages = [queue.post_entry(incident, entry)] if announce else []
    if invite:
        messages.append(queue.to_channel(incident, "invite", users=[p.user for p in fresh]))
    return Paging(fresh, messages + queue.pages(incident, fresh, reason=reason))


@dataclass(frozen=True)
class Paging:
    """Who a page reaches, and the outbox messages that reach them."""

    pages: list[Page]
    messages: list[Message]


def page_now(
    session: Session, config: Config, *, incident_id: int, actor: str, target: str
) -> list[Page]:
    """Page a team (through its on-call) or a person right away, at the current step."""
    incident, now = open_for_change(session, incident_id)
    if target not in config.teams and not target.startswith(("U", "W")):
        teams = ", ".join(sorted(config.teams)) or "none configured"
        raise UserError(
            f"'{escape(target)}' is neither a team nor a user. "
            f"Try `/incident page @someone` or a team: {teams}."
        )
    wanted = [Page(user, "consulted", team) for user, team in resolve_ref(config, target, now)]
    if not wanted:
        raise UserError(f"Team {target!r} has nobody to page: add members or an on-call.")
    paging = page_people(
        session,
        incident,
        wanted,
        actor=actor,
        reason={"cause": "page", "by": actor},
        step=incident.escalation_level,
        now=now,
    )
    if not paging.pages:
        who = ", ".join(f"<@{p.user}>" for p in wanted)
        raise UserError(
            f"{who} {'was' if len(wanted) == 1 else 'were'} already paged at this escalation "
            f"step of {incident.ref}. `/incident escalate` pages the next step."
        )
    queue.send(session, incident, *paging.messages, now=now)
    return paging.pages
