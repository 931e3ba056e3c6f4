"""The cross-reference checks: what one block of the config cannot check alone.

Teams named by areas, areas named by services, runbooks named by services, Slack IDs
of people, channels and user groups, the channels the severity table needs, SLO
thresholds that contradict their targets, and who the permissions name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

from bot.config.governance import ROLES
from bot.config.model import CHANNEL_ID, USER_ID, USERGROUP_ID
from bot.config.slo import parse_latency, parse_percentage
from bot.config.source import KeyPath, Report, did_you_mean

T = TypeVar("T")

_FIND_USER_ID = "in Slack: open the profile, More, Copy member ID"


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """The text entries of a list (or of a single name), each with its key path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield (*path, index), item


def check_references(
    data: dict[Any, Any], report: Report, runbooks: Collection[str] | None
) -> None:
    """Check what refers to what, on the raw values."""
    # Raw values rather than the Config, so these problems are reported even when
    # pydantic refused another part of the file.
    teams = _mapping(data.get("teams"))
    areas = _mapping(data.get("areas"))
    _check_teams(teams, report)
    _check_areas(data, areas, teams, report)
    _check_services(_mapping(data.get("services")), areas, runbooks, report)
    _check_severities(data, report)
    _check_permissions(_mapping(data.get("permissions")), teams, report)
    channels = _mapping(data.get("channels"))
    for key in ("announcements", "backlog"):
        _check_channel(channels, key, ("channels",), report)
    _check_channel(_mapping(data.get("review")), "channel", ("review",), report)
    default_area = _mapping(data.get("alerts")).get("default_area")
    if isinstance(default_area, str) and default_area not in areas:
        known = ", ".join(str(name) for name in areas) or "none"
        report.add(
            ("alerts", "default_area"),
            f"{default_area!r} is not an area of `areas` (areas: {known})"
            + did_you_mean(default_area, areas),
        )


def _check_user(value: str, path: KeyPath, teams: dict[Any, Any], report: Report) -> None:
    if USER_ID.match(value):
        return
    if value in teams:
        report.add(path, f"{value!r} is a team, but this names people: give Slack user IDs (U...)")
    else:
        report.add(
            path, f"{value!r} is not a Slack user ID (U..., {_FIND_USER_ID}): name people by ID"
        )


def _check_channel(block: dict[Any, Any], key: str, path: KeyPath, report: Report) -> None:
    value = block.get(key)
    if key in block and value is None:
        report.add(
            (*path, key),
            "is empty: give a channel ID (C...); a channel name such as #incidents "
            "reads as a YAML comment",
        )
    elif isinstance(value, str) and not CHANNEL_ID.match(value):
        report.add(
            (*path, key),
            f"{value!r} is not a Slack channel ID (C... or G...): copy it from the bottom "
            "of the channel's About tab",
        )


def _check_teams(teams: dict[Any, Any], report: Report) -> None:
    for key, team in teams.items():
        if not isinstance(team, dict):
            continue
        path: KeyPath = ("teams", key)
        for member_path, member in _names(team.get("members"), (*path, "members")):
            _check_user(member, member_path, teams, report)
        oncall = _mapping(team.get("oncall"))
        for user_path, user in _names(oncall.get("rotation"), (*path, "oncall", "rotation")):
            _check_user(user, user_path, teams, report)
        _check_channel(team, "channel", path, report)
        usergroup = team.get("usergroup")
        if isinstance(usergroup, str) and not USERGROUP_ID.match(usergroup):
            report.add(
                (*path, "usergroup"),
                f"{usergroup!r} is not a Slack user group ID (S...): copy it from the "
                "group's page in Slack",
            )
        if not team.get("members") and not oncall.get("rotation"):
            report.add(
                path,
                "has neither members nor an on-call rotation: nobody could be paged "
                "through this team",
            )


def _check_team_or_user(value: str, path: KeyPath, teams: dict[Any, Any], report: Report) -> None:
    if value in teams or USER_ID.match(value):
        return
    report.add(
        path,
        f"{value!r} is neither a team of `teams` nor a Slack user ID (U...): add the team "
        f"or fix the name{did_you_mean(value, teams)}",
    )


def _check_areas(
    data: dict[Any, Any], areas: dict[Any, Any], teams: dict[Any, Any], report: Report
) -> None:
    if isinstance(data.get("areas"), dict) and not areas:
        report.add(("areas",), "no areas: the RACI table needs at least one row")
    for key, area in areas.items():
        if not isinstance(area, dict):
            continue
        path: KeyPath = ("areas", key)
        for role in ("responsible", "consulted", "informed"):
            for ref_path, ref in _names(area.get(role), (*path, role)):
                _check_team_or_user(ref, ref_path, teams, report)
        accountable = area.get("accountable")
        if isinstance(accountable, str) and not USER_ID.match(accountable):
            if accountable in teams:
                message = f"{accountable!r} is a team, but accountable is one person"
            else:
                message = f"{accountable!r} is not a Slack user ID"
            report.add(
                (*path, "accountable"),
                f"{message}: give their Slack user ID (U..., {_FIND_USER_ID})",
            )


def _check_services(
    services: dict[Any, Any],
    areas: dict[Any, Any],
    runbooks: Collection[str] | None,
    report: Report,
) -> None:
    for key, service in services.items():
        if not isinstance(service, dict):
            continue
        path: KeyPath = ("services", key)
        area = service.get("area")
        if isinstance(area, str) and area not in areas:
            known = ", ".join(str(name) for name in areas) or "none"
            report.add(
                (*path, "area"),
                f"{area!r} is not an area of `areas` (areas: {known})" + did_you_mean(area, areas),
            )
        if runbooks is not None:
            for runbook_path, name in _names(service.get("runbooks"), (*path, "runbooks")):
                if name not in runbooks:
                    known = ", ".join(sorted(runbooks)) or "none"
                    report.add(
                        runbook_path,
                        f"no runbook {name!r}: add {name}.md to the runbooks folder or fix "
                        f"the name (runbooks found: {known})" + did_you_mean(name, runbooks),
                    )
        url = _mapping(service.get("rollback")).get("url")
        if isinstance(url, str) and not url.startswith(("https://", "http://")):
            report.add(
                (*path, "rollback", "url"),
                f"{url!r} is not an http(s) URL: the rollback webhook is called with a POST",
            )
        _check_slo(_mapping(service.get("slo")), (*path, "slo"), report)
        stakeholders = _mapping(_mapping(service.get("readiness")).get("stakeholders"))
        for role, user in stakeholders.items():  # a sign-off is by one person: a user ID
            if isinstance(user, str):
                _check_user(user, (*path, "readiness", "stakeholders", role), {}, report)


def _check_permissions(block: dict[Any, Any], teams: dict[Any, Any], report: Report) -> None:
    """Each permission names roles, team keys or user IDs, and at least one of them."""
    roles = ", ".join(ROLES)
    for action, entries in block.items():
        path: KeyPath = ("permissions", action)
        if entries == []:
            report.add(
                path,
                f"is empty: nobody could ever do it; name at least one role ({roles}), "
                "team or Slack user ID (U...)",
            )
        for entry_path, entry in _names(entries, path):
            if entry in ROLES or entry in teams or USER_ID.match(entry):
                continue
            report.add(
                entry_path,
                f"{entry!r} is neither a role ({roles}), a team of `teams` nor a Slack user "
                "ID (U...)" + did_you_mean(entry, [*ROLES, *teams]),
            )


def _parsed(parse: Callable[[object], T], block: dict[Any, Any], key: str) -> T | None:
    """The value at `key` parsed, or None when absent or refused (pydantic reports why)."""
    try:
        return parse(block[key]) if key in block else None
    except ValueError:
        return None


def _check_slo(slo: dict[Any, Any], path: KeyPath, report: Report) -> None:
    """Thresholds that contradict the targets they guard."""
    target = _parsed(parse_percentage, slo, "success_rate")
    page_below = _parsed(parse_percentage, slo, "page_below")
    if target is not None and page_below is not None and page_below >= target:
        report.add(
            (*path, "page_below"),
            f"{slo['page_below']} is not below success_rate {slo['success_rate']}: it would "
            "page while the target is met; write a lower percentage, e.g. 99%",
        )
    p95 = _parsed(parse_latency, slo, "latency_p95")
    page_above = _parsed(parse_latency, slo, "page_latency_above")
    if p95 is not None and page_above is not None and page_above <= p95:
        report.add(
            (*path, "page_latency_above"),
            f"{slo['page_latency_above']} is not above latency_p95 {slo['latency_p95']}: it "
            "would page while the target is met; write a longer latency, e.g. 5s",
        )
    p99 = _parsed(parse_latency, slo, "latency_p99")
    if p95 is not None and p99 is not None and p99 < p95:
        report.add(
            (*path, "latency_p99"),
            f"{slo['latency_p99']} is below latency_p95 {slo['latency_p95']}, but the p99 "
            "latency is never below the p95: write at least the p95 target",
        )


def _check_severities(data: dict[Any, Any], report: Report) -> None:
    channels = _mapping(data.get("channels"))
    for level, policy in _mapping(data.get("severities")).items():
        if not isinstance(policy, dict):
            continue
        path: KeyPath = ("severities", level)
        if policy.get("respond_within") == "next_sprint" and data.get("sprint") is None:
            report.add(
                (*path, "respond_within"),
                "next_sprint needs a `sprint` block to know when sprints start: add e.g. "
                "sprint: {length: 14d, anchor: 2026-01-05}",
            )
        notify = policy.get("notify")
        # A key written but empty is reported by the channel check, with its cause.
        if notify == "backlog" and "backlog" not in channels:
            report.add(
                (*path, "notify"),
                "backlog posts to channels.backlog, which is not set: add "
                "channels: {backlog: C...}",
            )
        if notify in ("everyone", "owning_team") and "announcements" not in channels:
            report.add(
                (*path, "notify"),
                f"{notify} announces in channels.announcements, which is not set: add "
                "channels: {announcements: C...}",
            )
