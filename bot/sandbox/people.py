"""Who is who in the sandbox: the config's people, with a name and the role they play.

A config names people by Slack user ID only, so the sandbox gives each a made-up name
(the same one every run) and says what the config makes of them: the teams they are in,
whether they are on call now, which areas they are accountable for. One more person,
in no team and no RACI row, shows what someone without a role sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config.model import Config
from bot.core.oncall import on_call
from bot.sandbox.seed import config_people

OUTSIDER = "U0GUEST"  # in the workspace, not in the config
_NAMES = (
    "Ada Okafor", "Ben Müller", "Chen Wei", "Dana Kowalski", "Elif Demir", "Farah Haddad",
    "Gus Lindqvist", "Hana Sato", "Ivan Petrov", "Jade Moreau", "Kofi Mensah", "Lena Weiss",
    "Mateo Rossi", "Nia Banda", "Omar Aziz", "Priya Nair", "Quinn Foster", "Rosa Alves",
    "Sami Laine", "Tara Byrne", "Uma Iyer", "Victor Hugo", "Wen Zhao", "Yara Costa",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """Someone to act as in the sandbox."""

    id: str
    name: str
    role: str


def sandbox_people(config: Config, at: datetime) -> list[Person]:
    """Everyone the config names, then the outsider; named in a stable order."""
    ids = sorted(config_people(config))
    people = [Person(uid, _name(i, uid), role_of(config, uid, at)) for i, uid in enumerate(ids)]
    return [*people, Person(OUTSIDER, "Sam Guest", "not in the config: no team, no RACI role")]


def role_of(config: Config, user_id: str, at: datetime) -> str:
    """What `user_id` is at `at`, in a few words: their teams (on call or not) and what
    those teams and they themselves are in the RACI table."""
    parts: list[str] = []
    for key, team in config.teams.items():
        if user_id in team.members or (team.oncall and user_id in team.oncall.rotation):
            on_duty = team.oncall is not None and on_call(team, at) == user_id
            owns = [a.name for a in config.areas.values() if a.responsible == key]
            parts.append(
                team.name
                + (", on call now" if on_duty else "")
                + (f" (responsible for {', '.join(owns)})" if owns else "")
            )
    for role in ("responsible", "accountable"):
        areas = [a.name for a in config.areas.values() if getattr(a, role) == user_id]
        if areas:
            parts.append(f"{role} for {', '.join(areas)}")
    for role in ("consulted", "informed"):
        areas = [a.name for a in config.areas.values() if user_id in getattr(a, role)]
        if areas:
            parts.append(f"{role} on {', '.join(areas)}")
    return "; ".join(parts) or "named in the config"


def _name(index: int, user_id: str) -> str:
    if index < len(_NAMES):
        return _NAMES[index]
    return f"Person {user_id}"
