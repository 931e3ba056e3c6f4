"""The resolved plan that `firebell check` prints.

For every area and severity: who is paged at declaration, who is invited to the
incident channel, where it is announced, the response deadline, and who escalation
pages when, as offsets from the moment of declaration. On-call rotations are resolved
at the time the plan is made (and at the time each escalation step would be due).

What comes after the declaration is `timed_plan`, built from `response_schedule`: the
function the runtime writes its deadline rows from, so the plan cannot promise a page
(or a reminder) that a running firebell would not send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from bot.config.duration import format_duration
from bot.config.load import ConfigError, Problem, load_config
from bot.config.model import Config, NotifyScope
from bot.core import permissions, visibility
from bot.core.deadlines import EscalationStep, response_deadline
from bot.core.oncall import current_and_next, require_aware
from bot.core.pii import describe
from bot.core.raci import (
    Informed,
    Page,
    channel_invites,
    who_to_inform,
    who_to_page,
    who_to_page_at_level,
)
from bot.core.schedule import response_schedule
from bot.runbooks import check_runbooks, read_runbooks, stale_runbooks

_LABEL_WIDTH = 10


@dataclass(frozen=True)
class Timed:
    """One thing firebell does after the declaration of an incident nobody acknowledges.

    `warn`: a post in the incident channel that the deadline is near; `escalate`: a
    page of `users` as escalation `step`; `remind`: a post in the backlog channel
    (then one at every sprint start after it).
    """

    due: datetime
    action: Literal["warn", "escalate", "remind"]
    users: tuple[str, ...] = ()
    step: EscalationStep | None = None


def timed_plan(config: Config, area: str, severity: str, at: datetime) -> list[Timed]:
    """What is due, in order, for an incident of `area` and `severity` declared at `at`."""
    schedule = response_schedule(config, severity, require_aware(at))
    timed = [Timed(schedule.warning, "warn")] if schedule.warning is not None else []
    for step in schedule.steps:
        pages = who_to_page_at_level(config, area, step.level, step.due)
        timed.append(Timed(step.due, "escalate", tuple(page.user for page in pages), step))
    if schedule.sprint_reminder is not None:
        timed.append(Timed(schedule.sprint_reminder, "remind"))
    return sorted(timed, key=lambda entry: entry.due)


def check(
    config_path: Path, runbooks_dir: Path, *, at: datetime, drills: Sequence[str] = ()
) -> tuple[int, str]:
    """Validate the config and runbooks: (0, the resolved plan) or (1, every problem).

    Runbooks due for review are warnings printed before the plan; they fail nothing.
    So are `drills`: rollback drills that failed or are overdue (read from the database
    by the caller, `bot.incidents.drills.checked_drills`), and templates of the config's
    `templates` folder that nothing uses; one that does not render refuses the config.
    """
    runbooks, runbook_problems = read_runbooks(runbooks_dir)
    config_problems: list[Problem] = []
    config: Config | None = None
    try:
        config = load_config(config_path, runbooks=runbooks.keys())
    except ConfigError as err:
        config_problems = err.problems
    runbook_problems = sorted(
        [*runbook_problems, *check_runbooks(runbooks, config, at=at)],
        key=lambda problem: (str(problem.path), problem.line or 0),
    )
    # The templates are an edge's concern (files, Jinja2): imported only when checked.
    from bot.postmortem.checks import check_templates  # noqa: PLC0415

    templates = check_templates(config, config_path) if config is not None else None
    config_problems += templates.problems if templates is not None else []
    if config is None or templates is None or runbook_problems or config_problems:
        lines = [str(problem) for problem in [*config_problems, *runbook_problems]]
        refused = [str(config_path)] if config_problems else []
        refused += [str(runbooks_dir)] if runbook_problems else []
        summary = f"{' and '.join(refused)} refused: {_count(len(lines), 'problem')}."
        return 1, "\n".join([*lines, summary])
    found = [
        _count(len(config.areas), "area"),
        _count(len(config.teams), "team"),
        _count(len(config.services), "service"),
        f"{_count(len(runbooks), 'runbook')} in {runbooks_dir}",
    ]
    warnings = "".join(
        f"{line}\n" for line in [*stale_runbooks(runbooks, at), *drills, *templates.warnings]
    )
    warnings += f"{templates.line}\n" if templates.line else ""
    header = f"{config_path}: OK ({', '.join(found)})\n\n"
    return 0, header + (warnings + "\n" if warnings else "") + resolved_plan(config, at)


def resolved_plan(config: Config, at: datetime) -> str:
    """The plan as plain text, for incidents declared at `at`."""
    at = require_aware(at)
    lines = [
        f"Plan for incidents declared at {_when(at)}; times are offsets from declaration.",
        "",
        *_teams(config, at),
        "",
        _escalation_summary(config),
        "",
        *describe(config.pii),
        "",
        *visibility.describe(config),
        "",
        *permissions.describe(config),
    ]
    for area in config.areas:
        lines += ["", *_area(config, area, at)]
    return "\n".join(lines)


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _offset(delta: timedelta) -> str:
    return "+" + format_duration(delta)


def _row(label: str, text: str, *, indent: str = "    ") -> str:
    return f"{indent}{label:<{_LABEL_WIDTH}}{text}".rstrip()


def _rows(label: str, texts: list[str], *, indent: str = "    ") -> list[str]:
    """One row a text, the label on the first only; `nobody` when there is none."""
    texts = texts or ["nobody"]
    return [_row(label if i == 0 else "", text, indent=indent) for i, text in enumerate(texts)]


def _teams(config: Config, at: datetime) -> list[str]:
    if not config.teams:
        return ["Teams: none"]
    key_width = max(len(key) for key in config.teams) + 2
    name_width = max(len(team.name) for team in config.teams.values()) + 2
    lines = ["Teams"]
    for key, team in config.teams.items():
        shifts = current_and_next(team, at)
        if shifts is None:
            who = f"members {', '.join(team.members)}"
        else:
            current, following = shifts
            who = f"on call {current.user} until {_when(current.ends)}, then {following.user}"
        if team.channel:
            who += f"; channel {team.channel}"
        lines.append(f"  {key:<{key_width}}{team.name:<{name_width}}{who}")
    return lines


def _escalation_summary(config: Config) -> str:
    policy = config.escalation
    interval = (
        "response time" if policy.every == "respond_within" else format_duration(policy.every)
    )
    return (
        f"Escalation levels: {', '.join(policy.levels)}. Level 1 is the notify scope, paged at\n"
        f"declaration; unacknowledged, one more step every {interval} from the response\n"
        f"deadline, the last level {_count(policy.repeat_last, 'more time')}."
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _area(config: Config, key: str, at: datetime) -> list[str]:
    row = config.areas[key]
    covers = f" ({row.covers})" if row.covers else ""
    raci = [f"R {row.responsible}", f"A {row.accountable}"]
    raci += [f"C {', '.join(row.consulted)}"] if row.consulted else []
    raci += [f"I {', '.join(row.informed)}"] if row.informed else []
    services = [name for name, service in config.services.items() if service.area == key]
    lines = [f"Area {key}: {row.name}{covers}", _row("RACI", "; ".join(raci), indent="  ")]
    if services:
        lines.append(_row("services", ", ".join(services), indent="  "))
    for severity in config.severities:
        lines += ["", *_severity(config, key, severity, at)]
    return lines


def _severity(config: Config, area: str, severity: str, at: datetime) -> list[str]:
    policy = config.severities[severity]
    if policy.respond_within == "next_sprint":
        deadline = response_deadline(config, severity, at)
        respond = f"respond by the next sprint start ({_when(deadline)})"
    else:
        respond = f"respond within {format_duration(policy.respond_within)}"
    heading = f"{severity} {policy.name}: {respond}, notify {policy.notify}"
    if policy.update_every is not None:
        heading += f", status updates every {format_duration(policy.update_every)}"
    lines = [f"  {heading}"]
    if policy.notify == "backlog":
        lines.append(_row("page", "nobody: the incident is posted to the backlog"))
    else:
        pages = who_to_page(config, area, policy.notify, at)
        lines += _rows("page", [_page(config, page) for page in pages])
        invites = channel_invites(config, area, policy.notify, at)
        lines.append(_row("invite", ", ".join(invites) or "nobody"))
    informs = who_to_inform(config, area, policy.notify)
    lines += _rows("inform", [_informed(config, entry, policy.notify) for entry in informs])
    timed = timed_plan(config, area, severity, at)
    deadline = response_deadline(config, severity, at)
    for entry in timed:
        if entry.action == "warn":
            before = format_duration(deadline - entry.due)
            lines.append(_row("warn", f"{_offset(entry.due - at)} ({before} before the deadline)"))
        elif entry.action == "remind":
            lines.append(_row("remind", _reminder(config, entry.due - at)))
    escalations = [(entry.due, entry.step, entry.users) for entry in timed if entry.step]
    if escalations:
        lines += _rows("escalate", _escalation(config, escalations, at))
    return lines


def _reminder(config: Config, offset: timedelta) -> str:
    where = config.channels.backlog
    if where is None:
        return f"{_offset(offset)} a timeline entry only: no backlog channel is configured"
    return f"{_offset(offset)} in {where} (backlog), then every sprint start until acknowledged"


def _page(config: Config, page: Page) -> str:
    if page.team is None:
        return f"{page.user} ({page.role})"
    team = config.teams[page.team]
    via = f"{team.name} on-call" if team.oncall is not None else team.name
    return f"{page.user} ({page.role}, {via})"


def _informed(config: Config, entry: Informed, scope: NotifyScope) -> str:
    if entry.team is None:
        if entry.channel is None:
            return f"{', '.join(entry.users)} by DM"
        return f"{entry.channel} ({'backlog' if scope == 'backlog' else 'announcements'})"
    name = config.teams[entry.team].name
    if entry.channel is not None:
        return f"{entry.channel} ({name})"
    return f"{', '.join(entry.users)} by DM ({name})"


def _escalation(
    config: Config,
    escalations: list[tuple[datetime, EscalationStep, tuple[str, ...]]],
    at: datetime,
) -> list[str]:
    offsets = [_offset(due - at) for due, _, _ in escalations]
    width = max((len(offset) for offset in offsets), default=0)
    repeats = config.escalation.repeat_last
    lines = []
    for (_, step, users), offset in zip(escalations, offsets, strict=True):
        text = f"{offset:>{width}} {step.level}: {', '.join(users) or 'nobody'}"
        if step.repeat:
            text += f" (repeat {step.repeat} of {repeats})"
        lines.append(text)
    return lines
