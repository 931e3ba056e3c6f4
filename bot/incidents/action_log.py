"""One log line per incident action, written once the action's transaction committed.

`record` (every timeline entry goes through it) notes the entry in `session.info`; a
`Store.committed` hook (`log_actions`, installed by `create_app`) logs what a committed
transaction noted. Logging in the use case itself would tell of actions that a later
failure rolled back, and logging in the Slack edge would miss what the deadline clock
(escalations) and delivery (undelivered pages) do on their own; this way every path
that commits an action logs it, and nothing else does. A failed deadline handler's
savepoint takes its notes back with it (`bot.clock.firing`), because a note replaces
the tuple in `session.info` instead of appending to it.

Each line carries the incident ref, the actor and the action as structured fields
(`extra`), which `LOG_FORMAT=json` writes as keys of their own. Only kinds in `ACTIONS`
are logged, with the fields listed there: never a title, note, status or summary, which
are users' words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.store.db import Info
from bot.store.tables import Incident

log = logging.getLogger(__name__)
NOTED = "firebell.actions"  # session.info: the loggable actions a transaction recorded
# Entry fields renamed as log fields: `from` says little as a key of a whole log line,
# and `level` is the JSON line's own (`info`).
_FIELD_NAMES = {
    "from": "previous_severity",
    "to": "severity",
    "step": "escalation_step",
    "level": "escalation_level",
}


@dataclass(frozen=True)
class Action:
    """How one kind of timeline entry is logged: its wording and the fields it carries."""

    words: str  # formatted with the fields, plus `ref` and `actor`
    fields: tuple[str, ...] = ()


ACTIONS: dict[str, Action] = {
    "declared": Action(
        "{ref} declared by {actor}: {severity} in {area}", ("severity", "area", "service")
    ),
    "acknowledged": Action("{ref} acknowledged by {actor}"),
    "escalated": Action(
        "{ref} escalated to step {step} ({level}) by {actor}", ("step", "level", "cause")
    ),
    "severity_changed": Action(
        "{ref} severity changed from {from} to {to} by {actor}", ("from", "to")
    ),
    "lead_set": Action("{ref} lead set to {lead} by {actor}", ("lead",)),
    "mitigated": Action("{ref} mitigated by {actor}"),
    "resolved": Action("{ref} resolved by {actor}"),
    "page_undelivered": Action(
        "{ref} page to {user} not delivered: {error}", ("user", "role", "error", "moot")
    ),
}


@dataclass(frozen=True)
class Noted:
    """A recorded action, waiting for its transaction to commit."""

    incident: Incident  # read after the commit: a declaration is numbered after `record`
    kind: str
    actor: str
    fields: dict[str, Any]


def note_action(
    session: Session, incident: Incident, kind: str, *, actor: str, data: dict[str, Any]
) -> None:
    """Note a timeline entry for the log after the commit, if its kind is logged."""
    action = ACTIONS.get(kind)
    if action is None:
        return
    fields = {name: data.get(name) for name in action.fields}
    noted = Noted(incident, kind, actor, fields)
    session.info[NOTED] = (*session.info.get(NOTED, ()), noted)


def log_actions(info: Info) -> None:
    """Log the actions a committed transaction noted (a `Store.committed` hook).

    Never raises: the hooks after it wake delivery and the clock.
    """
    for noted in info.get(NOTED, ()):
        try:
            ref = noted.incident.ref
            fields = {"incident": ref, "actor": noted.actor, "action": noted.kind}
            fields.update(noted.fields)
            words = ACTIONS[noted.kind].words.format_map({"ref": ref, **fields})
            extra = {_FIELD_NAMES.get(k, k): v for k, v in fields.items()}
            log.info("%s", words, extra=extra)
        except Exception:
            log.exception("could not log %s action", noted.kind)
