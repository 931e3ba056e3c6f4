"""Who may do the actions that need more than being in the incident channel (pure).

Anyone in an incident channel may work the incident: acknowledge, post status, add
notes. A few actions change what the organisation commits to, so the config's
`permissions:` block names who may do them: lowering a P0's severity (`lower_p0_severity`),
resolving a P0 or a P1 (`resolve_p0`, `resolve_p1`) and rolling a service back
(`rollback`). Each is a list of entries, read against the incident's area:

- `responsible`: the members (and the rotation) of the area's Responsible team;
- `accountable`: the area's Accountable person;
- `consulted`, `informed`: the members of the area's Consulted / Informed teams;
- `lead`: the incident lead; `declarer`: the person who declared it (not alerts);
- `oncall`: who the Responsible team is paged through now (its on-call, else members);
- a team key: that team's members and rotation; a user ID: that person.

The default of each is `responsible`, `accountable`, `lead`.

Resolving is guarded by the incident's **peak** severity, the highest it ever had, not
its current one: otherwise lowering a P1 to P2 (or a P0, by whoever may lower it) would
let anyone resolve it. Lowering a P1 needs `resolve_p1` too, as a P1's severity is part
of what its resolver answers for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from bot.config.governance import ROLES
from bot.config.model import USER_ID, Config, Team
from bot.core.raci import resolve_ref

Action = Literal["lower_p0_severity", "resolve_p0", "resolve_p1", "rollback"]
ACTIONS: tuple[Action, ...] = get_args(Action)
_RESOLVE: dict[str, Action] = {"P0": "resolve_p0", "P1": "resolve_p1"}


@dataclass(frozen=True)
class IncidentFacts:
    """What a permission depends on: the incident's area, lead and declarer (None when
    alerts opened it), and the time (for who is on call)."""

    area: str
    lead: str | None
    declared_by: str | None
    at: datetime


@dataclass(frozen=True)
class Decision:
    """Whether the user may; `who_may` are the users who may (in the order of the
    rule), `teams` the names of the teams among them, `rule` the config's entries."""

    allowed: bool
    who_may: tuple[str, ...]
    teams: tuple[str, ...]
    rule: tuple[str, ...]


def rule_of(config: Config, action: Action) -> tuple[str, ...]:
    """The config's entries for `action`."""
    entries: list[str] = getattr(config.permissions, action)
    return tuple(entries)


def may(action: Action, user: str, facts: IncidentFacts, config: Config) -> Decision:
    """Whether `user` may do `action` on an incident with `facts`, and who may."""
    rule = rule_of(config, action)
    people: list[str] = []
    teams: list[str] = []
    for entry in rule:
        found, named = _entry(config, entry, facts)
        people += found
        teams += named if found else []
    who = tuple(dict.fromkeys(p for p in people if USER_ID.match(p)))
    return Decision(user in who, who, tuple(dict.fromkeys(teams)), rule)


def peak_severity(current: str, changes: Iterable[tuple[str, str]]) -> str:
    """The highest severity an incident had: `current` or a side of any of its
    severity changes (`(from, to)`); P0 is the highest, and P0-P3 sort that way."""
    return min([current, *(level for change in changes for level in change)])


def resolve_action(peak: str) -> Action | None:
    """The permission resolving an incident whose peak severity is `peak` needs (None:
    anyone may)."""
    return _RESOLVE.get(peak)


def severity_action(old: str, new: str) -> Action | None:
    """The permission moving from `old` to `new` needs: lowering a P0 needs
    `lower_p0_severity`, lowering a P1 `resolve_p1`; raising needs none."""
    if new <= old:  # P0 sorts first: raising, or no change
        return None
    return "lower_p0_severity" if old == "P0" else _RESOLVE.get(old)


def _entry(config: Config, entry: str, facts: IncidentFacts) -> tuple[list[str], list[str]]:
    """The users one entry names, and the names of the teams they are in."""
    if entry == "lead":
        return ([facts.lead] if facts.lead else []), []
    if entry == "declarer":
        return ([facts.declared_by] if facts.declared_by else []), []
    if entry not in ROLES:
        return _ref(config, entry)
    row = config.areas.get(facts.area)
    if row is None:  # an area removed from the config since the incident was declared
        return [], []
    if entry == "accountable":
        return [row.accountable], []
    if entry == "responsible":
        return _ref(config, row.responsible)
    if entry == "oncall":
        paged = [user for user, _ in _paged(config, row.responsible, facts.at)]
        return paged, _team_name(config, row.responsible)
    users: list[str] = []
    names: list[str] = []
    for ref in row.consulted if entry == "consulted" else row.informed:
        found, named = _ref(config, ref)
        users += found
        names += named
    return users, names


def _ref(config: Config, ref: str) -> tuple[list[str], list[str]]:
    """A team key's members and rotation (with the team's name), or a user ID."""
    team = config.teams.get(ref)
    if team is not None:
        return _members(team), [team.name]
    return ([ref] if USER_ID.match(ref) else []), []


def _members(team: Team) -> list[str]:
    rotation = team.oncall.rotation if team.oncall is not None else []
    return list(dict.fromkeys([*team.members, *rotation]))


def _paged(config: Config, ref: str, at: datetime) -> list[tuple[str, str | None]]:
    """Who `ref` is paged through at `at` (an unknown reference: nobody)."""
    if ref not in config.teams and not USER_ID.match(ref):
        return []
    return resolve_ref(config, ref, at)


def _team_name(config: Config, ref: str) -> list[str]:
    team = config.teams.get(ref)
    return [] if team is None else [f"{team.name} on call"]


def describe(config: Config) -> list[str]:
    """`firebell check`'s lines: who may do each action (teams by name)."""
    lines = ["Permissions (beyond working in the incident channel)"]
    for action in ACTIONS:
        entries = []
        for entry in rule_of(config, action):
            team = config.teams.get(entry) if entry not in ROLES else None
            entries.append(f"{entry} ({team.name})" if team is not None else entry)
        lines.append(f"  {action:<19}{', '.join(entries)}")
    return lines
