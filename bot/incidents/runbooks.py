"""Runbooks in an incident: post one in the channel, tick and untick its steps.

Ticks are per incident and runbook, shared by every posted copy: a click is diffed
against what the clicker's message showed (`bot.runbooks.clicked`), so two people
ticking different steps at once both count, and every posted copy is then updated to
the stored ticks.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from bot.config.model import Config
from bot.core.escaping import escape
from bot.incidents import queue
from bot.incidents.changes import id_of, open_for_change
from bot.incidents.errors import UserError
from bot.incidents.records import record
from bot.messages.runbooks import best_runbooks, part_count, runbook_groups
from bot.runbooks import Runbook, clicked
from bot.store.alerts import alert_names
from bot.store.runbook_steps import set_step, ticked_steps
from bot.store.tables import Incident

POST = "runbook"  # outbox kind: one part of a posted runbook
REFRESH = "runbook_refresh"  # outbox kind: update the posted steps of a runbook
STEP = "runbook_step"  # timeline kind: a step ticked or unticked
SHOWN = "runbook_shown"  # timeline kind: a runbook posted in the channel


@dataclass(frozen=True)
class Ticks:
    """What one click changed: the keys it ticked and unticked (stored changes only)."""

    ticked: list[str]
    unticked: list[str]


def choose_runbook(
    runbooks: Mapping[str, Runbook],
    config: Config,
    incident: Incident,
    name: str | None,
    *,
    alerts: Sequence[str] = (),
) -> Runbook:
    """The runbook named `name`, or the best match for the incident and the names of its
    `alerts`; UserError if none."""
    if name:
        if name in runbooks:
            return runbooks[name]
        close = difflib.get_close_matches(name, list(runbooks), 3, cutoff=0.4)
        hint = (
            " Did you mean " + " or ".join(f"`{escape(c)}`" for c in close) + "?" if close else ""
        )
        raise UserError(f"There is no runbook `{escape(name)}`.{hint}")
    matches = best_runbooks(runbooks, config, incident, alerts=alerts)
    if not matches:
        names = ", ".join(f"`{escape(n)}`" for n in runbooks) or "none"
        raise UserError(
            f"No runbook fits {incident.ref}. Name one: `/incident runbook <name>` "
            f"(runbooks: {names})."
        )
    return matches[0]


def post_runbook(
    session: Session,
    config: Config,
    runbooks: Mapping[str, Runbook],
    *,
    incident_id: int,
    actor: str,
    name: str | None = None,
) -> Runbook:
    """Post the named (or best matching) runbook in the incident channel, one outbox row
    per message; return it."""
    incident, now = open_for_change(session, incident_id)
    alerts = alert_names(session, incident_id=id_of(incident))
    runbook = choose_runbook(runbooks, config, incident, name, alerts=alerts)
    rows = [
        queue.to_channel(incident, POST, runbook=runbook.name, part=part)
        for part in range(part_count(runbook))
    ]
    queue.send(session, incident, *rows, now=now)
    record(session, incident, SHOWN, at=now, actor=actor, runbook=runbook.name)
    return runbook


def tick_steps(
    session: Session,
    config: Config,
    runbooks: Mapping[str, Runbook],
    *,
    incident_id: int,
    actor: str,
    runbook: str,
    group: int,
    selected: Collection[str],
    shown: Collection[str],
) -> Ticks:
    """Store what one click on group `group` of `runbook`'s checkboxes ticked and
    unticked, one timeline entry per step changed, and update every posted copy."""
    incident, now = open_for_change(session, incident_id)
    book = runbooks.get(runbook)
    groups = [] if book is None else runbook_groups(book, ())
    if book is None or not 0 <= group < len(groups):
        raise UserError(f"The runbook `{escape(runbook)}` has changed: post it again.")
    steps = groups[group].steps
    ticked, unticked = clicked(selected, shown, groups[group].keys)
    stored = ticked_steps(session, incident_id=id_of(incident), runbook=runbook)
    done = Ticks([], [])
    for step in steps:
        if step.key in ticked and step.key not in stored:
            done.ticked.append(step.key)
        elif step.key in unticked and step.key in stored:
            done.unticked.append(step.key)
        else:
            continue
        now_ticked = step.key in ticked
        set_step(
            session,
            incident_id=id_of(incident),
            runbook=runbook,
            step=step.key,
            ticked=now_ticked,
            by=actor,
            at=now,
        )
        record(
            session,
            incident,
            STEP,
            at=now,
            actor=actor,
            runbook=runbook,
            step=step.key,
            text=step.text,
            ticked=now_ticked,
        )
    if done.ticked or done.unticked:
        queue.send(session, incident, queue.to_channel(incident, REFRESH, runbook=runbook), now=now)
    return done
