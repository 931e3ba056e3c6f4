"""A `Postmortem` in words: the variables a template gets, for one flavour.

Every string a template can print is worded here, users' words already escaped for the
flavour (`bot.postmortem.flavours`): a template author cannot forget to. For Slack,
long lists keep their first and last items (`Listing.omitted` says how many are left
out between) and long words are cut, so a summary fits one message however long the
incident ran. docs/postmortems.md lists these variables for template authors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.config.duration import format_duration
from bot.config.model import USER_ID, Config
from bot.core.escaping import mention
from bot.messages import events
from bot.messages.words import ago
from bot.postmortem.facts import (
    Paged,
    PagingRound,
    Postmortem,
    RollbackDone,
    RunbookUse,
)
from bot.postmortem.flavours import Flavour
from bot.postmortem.limits import clip
from bot.store.tables import Incident, TimelineEntry

T = TypeVar("T")
SAYS = {"note": "note", "status": "status update"}  # entries whose line is only the words

# Slack flavour: characters of users' words, per kind of text.
TITLE, SUMMARY, DESCRIPTION, SAID, SHORT_SAID, LINE = 200, 1500, 500, 400, 200, 300
# Slack flavour: how many items of a list are shown, (first, last).
TIMELINE, STATUS, PINS, FOLLOWUPS, PAGING, ROLLBACKS, RUNBOOKS, STEPS = (
    (10, 10),
    (2, 6),
    (8, 0),
    (10, 0),
    (4, 4),
    (5, 0),
    (5, 0),
    (10, 0),
)


@dataclass(frozen=True)
class Listing:
    """A list as a template shows it: `first` and `last` items, `omitted` between them.

    Iterating gives `first` then `last`; in Markdown everything is in `first`.
    """

    first: list[Any]
    last: list[Any] = field(default_factory=list)
    omitted: int = 0

    @property
    def total(self) -> int:
        """How many items there are, shown or not."""
        return len(self.first) + len(self.last) + self.omitted

    def __iter__(self) -> Iterator[Any]:
        return iter([*self.first, *self.last])

    def __len__(self) -> int:
        return len(self.first) + len(self.last)


def listing(items: Sequence[T], flavour: Flavour, shown: tuple[int, int]) -> Listing:
    """`items` as a `Listing`: whole in Markdown, first and last for Slack."""
    head, tail = shown
    if not flavour.fits_slack or len(items) <= head + tail:
        return Listing(list(items))
    return Listing(list(items[:head]), list(items[len(items) - tail :]), len(items) - head - tail)


def variables(pm: Postmortem, config: Config, flavour: Flavour) -> dict[str, Any]:
    """Everything a postmortem template may print (see docs/postmortems.md)."""
    inc = pm.incident
    words, person, moment = flavour.words, flavour.person, flavour.moment

    def at(value: datetime | None) -> str | None:
        return None if value is None else moment(value)

    def lasted(value: Any) -> str | None:
        return None if value is None else ago(value)

    policy = config.severities.get(inc.severity)
    area = config.areas.get(inc.area)
    return {
        "flavour": flavour.name,
        "incident": {
            "ref": inc.ref,
            "number": inc.number,
            "title": words(inc.title, TITLE),
            "description": words(inc.description, DESCRIPTION),
            "summary": words(inc.summary, SUMMARY),
            "short_summary": words(inc.summary, SHORT_SAID),
            "state": inc.state,
            "resolved": inc.state == "resolved",
            "severity": inc.severity,
            "severity_name": words(policy.name, TITLE) if policy else "",
            "declared_severity": pm.declared_severity,
            "declared_by": person(inc.declared_by),
            "acknowledged_by": person(inc.acknowledged_by) if inc.acknowledged_by else None,
            "resolved_by": person(inc.resolved_by) if inc.resolved_by else None,
            "lead": person(inc.lead) if inc.lead else None,
            "channel": _channel(inc.channel_id, inc.channel_name, flavour),
            "channel_name": inc.channel_name,
            "escalation_steps": pm.escalation_steps,
        },
        "area": {
            "key": inc.area,
            "name": words(inc.area_name or (area.name if area else inc.area), TITLE),
            "covers": words(area.covers, TITLE) if area else "",
        },
        "service": words(inc.service, TITLE) if inc.service else None,
        "raci": _raci(pm, config, flavour),
        "severity_changes": [
            {"at": moment(c.at), "by": person(c.by), "from": c.before, "to": c.after}
            for c in pm.severity_changes
        ],
        "times": {
            "declared": moment(inc.declared_at),
            "acknowledged": at(inc.acknowledged_at),
            "mitigated": at(inc.mitigated_at),
            "resolved": at(inc.resolved_at),
            "detected": at(inc.detected_at),
            "impact_started": at(inc.impact_started_at),
            "impact_ended": at(inc.impact_ended_at),
        },
        "durations": {
            "acknowledge": lasted(pm.time_to_acknowledge),
            "mitigate": lasted(pm.time_to_mitigate),
            "resolve": lasted(pm.time_to_resolve),
            "detect": lasted(pm.time_to_detect),
            "impact": lasted(pm.customer_impact),
        },
        "deadline": _deadline(pm, flavour),
        "paging": listing([_round(r, pm, config, flavour) for r in pm.paging], flavour, PAGING),
        "rollbacks": listing([_rollback(r, flavour) for r in pm.rollbacks], flavour, ROLLBACKS),
        "runbooks": listing([_runbook(r, flavour) for r in pm.runbooks], flavour, RUNBOOKS),
        "status_updates": listing(
            [
                {"at": moment(s.at), "by": person(s.by), "text": words(s.text, SAID)}
                for s in pm.status_updates
            ],
            flavour,
            STATUS,
        ),
        "followups": listing(
            [
                {
                    "text": words(f.text, SAID),
                    "owner": person(f.owner),
                    "state": f.state,
                    "done": f.state == "done",
                    "at": moment(f.created_at),
                    "done_at": at(f.done_at),
                }
                for f in pm.followups
            ],
            flavour,
            FOLLOWUPS,
        ),
        "pins": listing(
            [
                {
                    "at": moment(p.posted_at or p.at),
                    "author": person(p.author) if USER_ID.match(p.author) else words(p.author, 80),
                    "text": words(p.text, SAID),
                    "link": flavour.link(p.permalink, "message") if p.permalink else "",
                }
                for p in pm.pins
            ],
            flavour,
            PINS,
        ),
        "timeline": listing(
            [
                {"at": moment(e.at), "line": flavour.worded(_line(e, inc, config, flavour))}
                for e in pm.timeline
            ],
            flavour,
            TIMELINE,
        ),
        "open_followups": sum(f.state != "done" for f in pm.followups),
    }


def _line(entry: TimelineEntry, incident: Incident, config: Config, flavour: Flavour) -> str:
    """The entry's timeline line (Slack mrkdwn); a note or status update says whose."""
    line = events.line(entry, incident, config)
    if entry.kind in SAYS and "legacy_text" not in entry.data:
        line = f"{mention(entry.actor)} ({SAYS[entry.kind]}): {line}"
    return clip(" ".join(line.split("\n")), LINE) if flavour.fits_slack else line


def _channel(channel_id: str | None, name: str, flavour: Flavour) -> str:
    if channel_id and flavour.fits_slack:
        return f"<#{channel_id}>"
    return f"#{name}"


def _named(config: Config, ref: str, flavour: Flavour) -> str:
    """A RACI entry: a team's name, or a person."""
    team = config.teams.get(ref)
    if team is not None:
        return flavour.words(team.name, 120)
    return flavour.person(ref) if USER_ID.match(ref) else flavour.words(ref, 120)


def _raci(pm: Postmortem, config: Config, flavour: Flavour) -> dict[str, Any] | None:
    if pm.raci is None:
        return None
    row = pm.raci
    return {
        "responsible": _named(config, row.responsible, flavour),
        "accountable": _named(config, row.accountable, flavour),
        "consulted": [_named(config, ref, flavour) for ref in row.consulted],
        "informed": [_named(config, ref, flavour) for ref in row.informed],
    }


def _deadline(pm: Postmortem, flavour: Flavour) -> dict[str, Any]:
    inc, outcome = pm.incident, pm.deadline
    within = None if pm.respond_within is None else format_duration(pm.respond_within)
    due = None if inc.response_deadline is None else flavour.moment(inc.response_deadline)
    if inc.response_deadline is None:
        text = "no response deadline"
    elif outcome is None:
        text = f"not acknowledged yet, due {due}"
    elif outcome.met:
        text = f"deadline met with {ago(outcome.by)} to spare"
    elif inc.acknowledged_at is None:
        text = f"deadline missed: unacknowledged {ago(outcome.by)} past it"
    else:
        text = f"deadline missed by {ago(outcome.by)}"
    return {
        "within": within,
        "at": due,
        "met": None if outcome is None else outcome.met,
        "by": None if outcome is None else ago(outcome.by),
        "text": text,
    }


def _who(config: Config, page: Paged, flavour: Flavour) -> str:
    """`@U (responsible, ML Team on-call)`."""
    if page.team is None:
        return f"{flavour.person(page.user)} ({page.role})"
    team = config.teams.get(page.team)
    via = flavour.words(team.name if team else page.team, 120)
    if team is not None and team.oncall is not None:
        via += " on-call"
    return f"{flavour.person(page.user)} ({page.role}, {via})"


def _why(r: PagingRound, pm: Postmortem, flavour: Flavour) -> str:
    level = f"level {r.step}" + (f" ({r.level})" if r.level else "")
    if r.cause == "declared":
        return f"{level}, at declaration"
    if r.cause == "severity":
        return f"{level}, severity raised"
    if r.cause == "page":
        return f"{level}, paged by {flavour.person(r.by)}"
    if r.cause == "unacknowledged":
        return f"escalated to {level}: unacknowledged for {ago(r.at - pm.incident.declared_at)}"
    if r.cause == "escalated":
        return f"escalated to {level} by {flavour.person(r.by)}"
    return level


def _round(r: PagingRound, pm: Postmortem, config: Config, flavour: Flavour) -> dict[str, Any]:
    return {
        "at": flavour.moment(r.at),
        "step": r.step,
        "level": r.level,
        "why": _why(r, pm, flavour),
        "people": [_who(config, p, flavour) for p in r.people],
    }


def _rollback(r: RollbackDone, flavour: Flavour) -> dict[str, Any]:
    words = flavour.words
    return {
        "service": words(r.service, 80),
        "environment": words(r.environment, 40),
        "from": words(r.from_version, 80) if r.from_version else None,
        "to": words(r.to_version, 80) if r.to_version else None,
        "by": flavour.person(r.requested_by),
        "at": flavour.moment(r.requested_at),
        "reason": words(r.reason, SHORT_SAID),
        "outcome": r.state,
        "finished": None if r.finished_at is None else flavour.moment(r.finished_at),
        "status_code": r.status_code,
        "duration": None if r.duration_ms is None else f"{r.duration_ms} ms",
        "message": words(r.message, SHORT_SAID),
    }


def _runbook(r: RunbookUse, flavour: Flavour) -> dict[str, Any]:
    steps = [
        {
            "text": flavour.words(s.text, SHORT_SAID),
            "by": flavour.person(s.by),
            "at": flavour.moment(s.at),
        }
        for s in r.steps
    ]
    return {
        "name": flavour.words(r.name, 120),
        "by": flavour.person(r.first_by),
        "at": flavour.moment(r.first_at),
        "times": r.times,
        "steps": listing(steps, flavour, STEPS),
    }
