"""RACI resolution: who is paged, invited and informed for an incident in an area.

A RACI entry names a team key or a Slack user ID. A team is paged through its on-call
if it has a rotation, else through all its members (SPEC section 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.config.model import USER_ID, Area, Config, EscalationLevel, NotifyScope
from bot.core.escaping import escape
from bot.core.oncall import on_call

Role = Literal["responsible", "accountable", "consulted", "informed"]

_SCOPE_ROLES: dict[NotifyScope, tuple[Role, ...]] = {
    "everyone": ("responsible", "accountable", "consulted"),
    "owning_team": ("responsible", "accountable"),
    "owner": ("responsible",),
    "backlog": (),
}
_LEVEL_ROLES: dict[EscalationLevel, tuple[Role, ...]] = {
    "responsible": ("responsible",),
    "accountable": ("accountable",),
    "consulted": ("consulted",),
    "everyone": ("responsible", "accountable", "consulted"),
}


@dataclass(frozen=True)
class Page:
    """One person to page, in which role, through which team (None: named directly)."""

    user: str
    role: Role
    team: str | None


@dataclass(frozen=True)
class Informed:
    """Someone kept informed: a team (by its channel, if it has one) or a single user."""

    team: str | None
    channel: str | None
    users: tuple[str, ...]


class UnknownAreaError(LookupError):
    """An incident names an area that the config does not have."""


class UnknownServiceError(LookupError):
    """An incident names a service that the config does not have."""


class UnknownTeamError(LookupError):
    """A reference is neither a team of the config nor a Slack user ID."""


def resolve_ref(config: Config, ref: str, at: datetime) -> list[tuple[str, str | None]]:
    """The users a RACI entry pages at `at`, each with the team they are paged through."""
    team = config.teams.get(ref)
    if team is not None:
        user = on_call(team, at)
        users = team.members if user is None else [user]
        return [(member, ref) for member in users]
    if USER_ID.match(ref):
        return [(ref, None)]
    raise UnknownTeamError(
        f"{ref!r} is neither a team ({_choices(config.teams)}) nor a Slack user ID (U...)"
    )


def who_to_page(config: Config, area: str, scope: NotifyScope, at: datetime) -> list[Page]:
    """Who is paged when an incident with this notify scope is declared in `area`."""
    row = _area(config, area)
    if scope == "owner":
        return _owner(config, row, at)
    return _pages(config, row, _SCOPE_ROLES[scope], at)


def who_to_page_at_level(
    config: Config, area: str, level: EscalationLevel, at: datetime
) -> list[Page]:
    """Who is paged when escalation reaches `level` in `area`."""
    return _pages(config, _area(config, area), _LEVEL_ROLES[level], at)


def channel_invites(config: Config, area: str, scope: NotifyScope, at: datetime) -> list[str]:
    """Who is invited to the incident channel of a declaration in `area`.

    The people paged; for `everyone` and `owning_team` also the other members of the
    teams paged, so a whole team can follow without being woken up. `owner` keeps the
    room to the one person paged; `backlog` invites nobody.
    """
    pages = who_to_page(config, area, scope, at)
    users = [page.user for page in pages]
    if scope in ("everyone", "owning_team"):
        for page in pages:
            if page.team is not None:
                users.extend(config.teams[page.team].members)
    return list(dict.fromkeys(users))


def informed(config: Config, area: str) -> list[Informed]:
    """The area's informed teams and users, in config order."""
    out = []
    for ref in _area(config, area).informed:
        team = config.teams.get(ref)
        if team is None:
            out.append(Informed(team=None, channel=None, users=(ref,)))
        else:
            out.append(Informed(team=ref, channel=team.channel, users=tuple(team.members)))
    return out


def who_to_inform(config: Config, area: str, scope: NotifyScope) -> list[Informed]:
    """Where a declaration in `area` is posted besides the pages.

    In order: the announcements channel for `everyone` and `owning_team`, then the
    area's informed teams and users; for `backlog`, only the backlog channel.
    """
    if scope == "backlog":
        backlog = config.channels.backlog
        return [] if backlog is None else [Informed(team=None, channel=backlog, users=())]
    out = []
    announcements = config.channels.announcements
    if scope in ("everyone", "owning_team") and announcements is not None:
        out.append(Informed(team=None, channel=announcements, users=()))
    return out + informed(config, area)


def area_for(config: Config, *, service: str | None, area: str | None) -> str:
    """The area of a declaration: the named area, else the service's, else the first area.

    Names match exactly, else ignoring case (`area:Model` finds `model`).
    """
    service_area = None
    if service is not None:
        key = _find(config.services, service)
        if key is None:
            raise UnknownServiceError(
                f"no service '{escape(service)}': use one of {_choices(config.services)}"
            )
        service_area = config.services[key].area
    if area is not None:
        key = _find(config.areas, area)
        if key is None:
            raise UnknownAreaError(f"no area '{escape(area)}': use one of {_choices(config.areas)}")
        return key
    if service_area is not None:
        return service_area
    if not config.areas:
        raise UnknownAreaError("the config has no areas")
    return next(iter(config.areas))


def _area(config: Config, area: str) -> Area:
    row = config.areas.get(area)
    if row is None:
        raise UnknownAreaError(f"no area {area!r}: use one of {_choices(config.areas)}")
    return row


def _refs(row: Area, role: Role) -> list[str]:
    if role == "responsible":
        return [row.responsible]
    if role == "accountable":
        return [row.accountable]
    if role == "consulted":
        return row.consulted
    return row.informed


def _pages(config: Config, row: Area, roles: Iterable[Role], at: datetime) -> list[Page]:
    pages = [
        Page(user=user, role=role, team=team)
        for role in roles
        for ref in _refs(row, role)
        for user, team in resolve_ref(config, ref, at)
    ]
    # One page a person, in the most responsible role they hold: roles come in R, A, C order.
    seen: set[str] = set()
    out = []
    for page in pages:
        if page.user not in seen:
            seen.add(page.user)
            out.append(page)
    return out


def _owner(config: Config, row: Area, at: datetime) -> list[Page]:
    team = config.teams.get(row.responsible)
    if team is None:
        return _pages(config, row, ("responsible",), at)
    user = on_call(team, at) or next(iter(team.members), None)
    return [] if user is None else [Page(user=user, role="responsible", team=row.responsible)]


def _find(names: Mapping[str, object], wanted: str) -> str | None:
    if wanted in names:
        return wanted
    folded = {name.casefold(): name for name in names}
    return folded.get(wanted.casefold())


def _choices(names: Iterable[str]) -> str:
    listed = ", ".join(names)
    return listed or "(none configured)"
