"""Typed models of firebell's YAML config (SPEC section 5).

The models check the shape of each block; cross-references (teams named by areas,
services naming areas and runbooks) are checked by `bot.config.references`, which knows
the line each value came from.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
)

from bot.config.block import Block
from bot.config.duration import parse_duration
from bot.config.governance import Permissions, Pii, Readiness, Stage
from bot.config.slo import Slo, SloMetrics

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
SEVERITY_LEVELS = ("P0", "P1", "P2", "P3")

NotifyScope = Literal["everyone", "owning_team", "owner", "backlog"]
EscalationLevel = Literal["responsible", "accountable", "consulted", "everyone"]
Classification = Literal["public", "internal", "confidential", "pii"]


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    # pydantic reports ValueError as the user's mistake; TypeError would be a crash.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{value} has no unit: write e.g. {value}m or {value}s")  # noqa: TRY004
    if not isinstance(value, str):
        raise ValueError("a duration is a string such as 30s, 15m, 1h or 2d")  # noqa: TRY004
    return parse_duration(value)


def _duration_or(keyword: str, value: object) -> object:
    """Accept `keyword` as it is, else a duration; the error names both choices."""
    if value == keyword:
        return value
    try:
        return _duration(value)
    except ValueError as err:
        raise ValueError(f"{err} (or {keyword})") from None


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _one_or_many(value: object) -> object:
    """Let a single name stand for a list of one, as people write `consulted: data`."""
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(_one_or_many)]


class Sprint(Block):
    """Sprint boundaries, used by `respond_within: next_sprint`."""

    length: Duration
    anchor: date


class Channels(Block):
    """Channels the bot posts to besides incident channels."""

    announcements: str | None = None
    backlog: str | None = None


class SeverityPolicy(Block):
    """One row of the severity table."""

    name: str
    respond_within: Duration | Literal["next_sprint"]
    notify: NotifyScope
    update_every: Duration | None = None

    @field_validator("respond_within", mode="before")
    @classmethod
    def _respond_within(cls, value: object) -> object:
        return _duration_or("next_sprint", value)


def _default_levels() -> list[EscalationLevel]:
    return ["responsible", "accountable", "everyone"]


class EscalationPolicy(Block):
    """What happens after a response deadline passes unacknowledged."""

    levels: list[EscalationLevel] = Field(default_factory=_default_levels, min_length=1)
    every: Duration | Literal["respond_within"] = "respond_within"
    repeat_last: int = Field(default=2, ge=0)
    warn_before: Duration | None = None

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: object) -> object:
        return _duration_or("respond_within", value)


class OnCall(Block):
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


class Team(Block):
    """A team: members, optional on-call rotation, user group and channel."""

    name: str
    members: list[str] = Field(default_factory=list)
    oncall: OnCall | None = None
    usergroup: str | None = None
    channel: str | None = None


class Area(Block):
    """One row of the RACI table."""

    name: str
    covers: str = ""
    responsible: str
    accountable: str
    consulted: Names = Field(default_factory=list)
    informed: Names = Field(default_factory=list)


class Rollback(Block):
    """A service's rollback webhook; the signing secret is read from `secret_env`.

    `environment` is the one rolled back (deploys are tracked per environment);
    `drill_every` sends a dry-run rollback on that schedule.
    """

    url: str
    secret_env: str | None = None
    environment: str = "production"
    drill_every: Duration | None = None


class Deploys(Block):
    """How `POST /hooks/deploys` may be signed besides the bearer token: a Standard
    Webhooks secret (`whsec_...`) read from the environment variable `secret_env`."""

    secret_env: str | None = None


class Service(Block):
    """A service: its RACI area, runbooks, rollback hook and objectives."""

    area: str
    classification: Classification = "internal"
    runbooks: Names = Field(default_factory=list)
    rollback: Rollback | None = None
    slo: Slo | None = None
    dashboard: str | None = None
    stage: Stage | None = None  # where a staged rollout starts; `/incident stage` moves it
    readiness: Readiness = Readiness()


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Review(Block):
    """The weekly failure review: where, and when in which time zone (IANA name)."""

    channel: str
    weekday: Weekday = "monday"
    time: str = "09:00"  # HH:MM, in `timezone`
    timezone: str = "UTC"

    @field_validator("weekday", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("time")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time of day: write HH:MM, e.g. 09:30")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone: use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return value


def _default_severity_map() -> dict[str, str]:
    return {"critical": "P1", "error": "P2", "warning": "P3"}


class GrafanaHook(Block):
    """Grafana's optional HMAC signature: the secret is read from `secret_env`."""

    secret_env: str | None = None


class Alerts(Block):
    """How alerts (`/hooks/alertmanager`, `/hooks/grafana`) become incidents.

    The service of an alert is its `service_label`; without a known service, its area is
    `area_label`; its severity is `severity_label` mapped by `severities`
    (a `firebell_severity: P0` label wins), else `default_severity`. An alert that names
    no known service or area goes to `default_area` when set, else it is posted to the
    backlog channel: never dropped.
    """

    service_label: str = "service"
    area_label: str = "area"
    severity_label: str = "severity"
    severities: dict[str, str] = Field(default_factory=_default_severity_map)
    default_severity: str = "P3"
    default_area: str | None = None
    attach_to_open: bool = True  # a service's alerts join its open incident
    # All alerts resolved: true mitigates an acknowledged incident, `always` also one
    # nobody has acknowledged (alerts also resolve when what they watch goes silent).
    auto_mitigate: bool | Literal["always"] = False
    max_new_incidents_per_minute: int = Field(default=10, ge=1)
    grafana: GrafanaHook = GrafanaHook()

    @field_validator("severities")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = {k: v for k, v in value.items() if v not in SEVERITY_LEVELS}
        if wrong:
            listed = ", ".join(f"{k}: {v}" for k, v in wrong.items())
            raise ValueError(f"map each label value to P0, P1, P2 or P3 (not {listed})")
        return value

    @field_validator("default_severity")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in SEVERITY_LEVELS:
            raise ValueError(f"{value!r} is not a severity: use P0, P1, P2 or P3")
        return value


class Audit(Block):
    """The audit trail: how long records are kept (None: for ever)."""

    retention: Duration | None = None


class Config(Block):
    """The whole config file."""

    sprint: Sprint | None = None
    channels: Channels = Channels()
    severities: dict[str, SeverityPolicy]
    escalation: EscalationPolicy = EscalationPolicy()
    teams: dict[str, Team] = Field(default_factory=dict)
    areas: dict[str, Area]
    services: dict[str, Service] = Field(default_factory=dict)
    runbooks_url: str | None = None  # where runbooks are read, e.g. a repository folder
    deploys: Deploys = Deploys()
    templates: str | None = None  # folder of Jinja2 overrides of the shipped templates
    review: Review | None = None
    alerts: Alerts = Alerts()
    slo_metrics: SloMetrics = SloMetrics()  # how SLIs are measured, per service overridable
    prometheus_url: str | None = None  # where live SLO status is read (`/incident slo`)
    pii: Pii = Pii()
    permissions: Permissions = Permissions()
    audit: Audit = Audit()

    @field_validator("prometheus_url")
    @classmethod
    def _prometheus_url(cls, value: str | None) -> str | None:
        # The value is not repeated: it may carry credentials (http://user:pass@host).
        if value is not None and not re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", value):
            raise ValueError(
                "is not an http(s) URL of Prometheus: write e.g. http://127.0.0.1:9090 "
                "(a path prefix such as https://example.com/prometheus is fine)"
            )
        return value

    @field_validator("severities")
    @classmethod
    def _four_levels(cls, value: dict[str, SeverityPolicy]) -> dict[str, SeverityPolicy]:
        if sorted(value) != list(SEVERITY_LEVELS):
            found = ", ".join(map(str, value)) or "none"
            raise ValueError(f"define exactly P0, P1, P2 and P3 (found: {found})")
        return value
