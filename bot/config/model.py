"""Typed models of firebell's YAML config (SPEC section 5).

The models check the shape of each block; cross-references (teams named by areas,
services naming areas and runbooks) are checked by `bot.config.load`, which knows the
line each value came from.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from bot.config.duration import parse_duration

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
SEVERITY_LEVELS = ("P0", "P1", "P2", "P3")

NotifyScope = Literal["everyone", "owning_team", "owner", "backlog"]
EscalationLevel = Literal["responsible", "accountable", "consulted", "everyone"]
Classification = Literal["public", "internal", "confidential", "pii"]


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("a duration is a string such as 30s, 15m, 1h or 2d")  # noqa: TRY004
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sprint(_Model):
    """Sprint boundaries, used by `respond_within: next_sprint`."""

    length: Duration
    anchor: date


class Channels(_Model):
    """Channels the bot posts to besides incident channels."""

    announcements: str | None = None
    backlog: str | None = None


class SeverityPolicy(_Model):
    """One row of the severity table."""

    name: str
    respond_within: Duration | Literal["next_sprint"]
    notify: NotifyScope
    update_every: Duration | None = None

    @field_validator("respond_within", mode="before")
    @classmethod
    def _respond_within(cls, value: object) -> object:
        return value if value == "next_sprint" else _duration(value)


def _default_levels() -> list[EscalationLevel]:
    return ["responsible", "accountable", "everyone"]


class EscalationPolicy(_Model):
    """What happens after a response deadline passes unacknowledged."""

    levels: list[EscalationLevel] = Field(default_factory=_default_levels, min_length=1)
    every: Duration | Literal["respond_within"] = "respond_within"
    repeat_last: int = Field(default=2, ge=0)
    warn_before: Duration | None = None

    @field_validator("every", "warn_before", mode="before")
    @classmethod
    def _every(cls, value: object) -> object:
        return value if value in ("respond_within", None) else _duration(value)


class OnCall(_Model):
    """A rotation: `rotation[i]` is on call for `every`, starting at `anchor`."""

    rotation: list[str] = Field(min_length=1)
    every: Duration
    anchor: datetime

    @field_validator("anchor")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("the anchor needs a UTC offset, e.g. 2026-01-05T09:00:00+00:00")
        return value


class Team(_Model):
    """A team: members, optional on-call rotation, user group and channel."""

    name: str
    members: list[str] = Field(default_factory=list)
    oncall: OnCall | None = None
    usergroup: str | None = None
    channel: str | None = None


class Area(_Model):
    """One row of the RACI table."""

    name: str
    covers: str = ""
    responsible: str
    accountable: str
    consulted: list[str] = Field(default_factory=list)
    informed: list[str] = Field(default_factory=list)


class Rollback(_Model):
    """A service's rollback webhook; the signing secret is read from `secret_env`."""

    url: str
    secret_env: str | None = None


class Slo(_Model):
    """A service's objectives, kept as written (used by reviews and readiness)."""

    success_rate: str | None = None
    latency_p95: str | None = None
    monthly_cost: float | None = None


class Service(_Model):
    """A service: its RACI area, runbooks, rollback hook and objectives."""

    area: str
    classification: Classification = "internal"
    runbooks: list[str] = Field(default_factory=list)
    rollback: Rollback | None = None
    slo: Slo | None = None
    dashboard: str | None = None


class Config(_Model):
    """The whole config file."""

    sprint: Sprint | None = None
    channels: Channels = Channels()
    severities: dict[str, SeverityPolicy]
    escalation: EscalationPolicy = EscalationPolicy()
    teams: dict[str, Team] = Field(default_factory=dict)
    areas: dict[str, Area]
    services: dict[str, Service] = Field(default_factory=dict)

    @field_validator("severities")
    @classmethod
    def _four_levels(cls, value: dict[str, SeverityPolicy]) -> dict[str, SeverityPolicy]:
        if sorted(value) != list(SEVERITY_LEVELS):
            raise ValueError("severities must define exactly P0, P1, P2 and P3")
        return value
