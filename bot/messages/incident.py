"""Block Kit for incidents, built with `slack_sdk.models.blocks` (which checks limits).

Pure functions of an incident, the config and stored facts; users' words are escaped
here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.config.model import Config
from bot.core.deploys import Target, environment_of
from bot.core.escaping import channel_link, escape, mention
from bot.core.states import State
from bot.core.timeline import shown
from bot.core.visibility import shows_details
from bot.messages import events
from bot.messages.alerts import alert_section
from bot.messages.deploys import version_line
from bot.messages.restricted import restricted_line, subject
from bot.messages.rollback import rollback_button
from bot.messages.runbooks import best_runbooks, runbook_button, runbook_list
from bot.messages.words import area_name, reason, team_name, when
from bot.runbooks import Runbook
from bot.slo.status import SloStatus
from bot.slo.status_render import status_line
from bot.store.tables import Alert, Incident, TimelineEntry

ACK = "incident_acknowledge"
RESOLVE = "incident_resolve"
ESCALATE = "incident_escalate"
STATE_ICONS = {
    State.OPEN: ":red_circle:",
    State.ACKNOWLEDGED: ":large_orange_circle:",
    State.MITIGATED: ":large_yellow_circle:",
    State.RESOLVED: ":white_check_mark:",
}
_HEADER_MAX = 150


def _headline(incident: Incident) -> str:
    # A header is plain text: Slack shows it as typed, so nothing in it can mention.
    text = f"{incident.ref} · {incident.severity} · {incident.title}"
    return text if len(text) <= _HEADER_MAX else text[: _HEADER_MAX - 1] + "…"


def summary_line(incident: Incident) -> str:
    """`:red_circle: *INC-7* P1 open · Checkout answers are wrong` (escaped)."""
    icon = STATE_ICONS[State(incident.state)]
    return (
        f"{icon} *{incident.ref}* {incident.severity} {incident.state} · {escape(incident.title)}"
    )


def _facts(incident: Incident, config: Config) -> list[str]:
    severity = config.severities[incident.severity]
    facts = [
        f"*Severity*\n{incident.severity} · {escape(severity.name)}",
        f"*State*\n{STATE_ICONS[State(incident.state)]} {incident.state}",
        f"*Area*\n{area_name(config, incident)}",
        f"*Declared by*\n{_declarer(incident)} {when(incident.declared_at)}",
    ]
    if incident.service:
        facts.append(f"*Service*\n{escape(incident.service)}")
    if incident.lead:
        facts.append(f"*Lead*\n{mention(incident.lead)}")
    if incident.acknowledged_by and incident.acknowledged_at:
        facts.append(
            f"*Acknowledged*\n{mention(incident.acknowledged_by)} {when(incident.acknowledged_at)}"
            + _deadline_kept(incident)
        )
    elif incident.response_deadline and State(incident.state) == State.OPEN:
        level = (
            f" · escalation level {incident.escalation_level}"
            if incident.escalation_level > 1
            else ""
        )
        facts.append(f"*Respond by*\n{when(incident.response_deadline)}{level}")
    return facts


def _declarer(incident: Incident) -> str:
    """Who declared it: a person, or the alerts that opened it."""
    if incident.origin == "storm":
        return "an alert storm"
    return "alerts" if incident.origin else mention(incident.declared_by)


def _deadline_kept(incident: Incident) -> str:
    """` (in time)` or ` (12m late)` against the response deadline."""
    if incident.response_deadline is None or incident.acknowledged_at is None:
        return ""
    late = incident.acknowledged_at - incident.response_deadline
    if late.total_seconds() <= 0:
        return " (in time)"
    minutes = int(late.total_seconds() // 60)
    return f" ({minutes}m late)" if minutes else f" ({int(late.total_seconds())}s late)"


def buttons(incident: Incident, *, include_resolve: bool = True) -> ActionsBlock | None:
    """The buttons that apply to the incident now."""
    value = str(incident.id)
    state = State(incident.state)
    elements: list[ButtonElement] = []
    if state == State.OPEN:
        elements.append(
            ButtonElement(text="Acknowledge", action_id=ACK, value=value, style="primary")
        )
    if state != State.RESOLVED and include_resolve:
        elements.append(ButtonElement(text="Escalate", action_id=ESCALATE, value=value))
        elements.append(
            ButtonElement(
                text="Resolve",
                action_id=RESOLVE,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Resolve this incident?",
                    text=f"{incident.ref} will be closed and its summary posted.",
                    confirm="Resolve",
                    deny="Not yet",
                ),
            )
        )
    return ActionsBlock(block_id=f"incident-{incident.id}", elements=elements) if elements else None


def main_message(
    incident: Incident,
    config: Config,
    *,
    channel_id: str | None = None,
    versions: Target | None = None,
    runbooks: Mapping[str, Runbook] | None = None,
    drill_warning: str | None = None,
    alerts: Sequence[Alert] = (),
    slo: SloStatus | None = None,
    stage: str | None = None,
) -> tuple[str, list[Block]]:
    """The incident's main message: pinned in its channel and mirrored elsewhere;
    `versions` are its service's current version and rollback target, when known;
    the best of `runbooks` for the incident (and its `alerts`' names) are listed, with
    a `Runbook` button; `drill_warning` says why the service's rollback drills need
    attention; `alerts` are listed with how many are resolved; `slo` is its service's
    live SLO status, read when the message is sent; `stage` its service's rollout stage."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_headline(incident), emoji=True)),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in _facts(incident, config)]),
    ]
    if incident.service and versions is not None:
        environment = environment_of(config, incident.service)
        if (line := version_line(incident.service, environment, versions)) is not None:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f":package: {line}")]))
    if incident.service and drill_warning:
        warning = f":warning: {incident.service}: {drill_warning}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=warning)]))
    if slo is not None and (line := _slo_line(config, slo)) is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    if incident.service and stage:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Stage: {stage}")]))
    if incident.description:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=escape(incident.description)[:3000]))
        )
    if incident.summary:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*Summary*\n{escape(incident.summary)}"[:3000])
            )
        )
    if (section := alert_section(incident, config, alerts)) is not None:
        blocks.append(section)
    names = sorted({a.name for a in alerts})
    matches = best_runbooks(runbooks or {}, config, incident, alerts=names)
    if matches:
        blocks.append(runbook_list(config, matches))
    if channel_id:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Join {channel_link(channel_id)} to help")]
            )
        )
    actions = buttons(incident)
    if actions and (rollback := rollback_button(incident, config)) is not None:
        actions.elements.append(rollback)
    if actions and matches:
        actions.elements.append(runbook_button(incident))
    if actions:
        blocks.append(actions)
    return summary_line(incident), blocks


def _slo_line(config: Config, status: SloStatus) -> str | None:
    """`:bar_chart: SLO (live, 14:05 UTC): ...`, while the service still has an `slo`."""
    service = config.services.get(status.service)
    if service is None or service.slo is None:
        return None
    return f":bar_chart: {status_line(status, service.slo)}"[:3000]


def page_message(
    incident: Incident,
    config: Config,
    *,
    role: str,
    team: str | None,
    why: dict[str, Any] | str,
    at: datetime,
    channel_id: str | None,
) -> tuple[str, list[Block]]:
    """The DM a paged person gets, with its `Acknowledge` button; `why` is the page's
    reason facts (a string in rows queued before facts were stored: shown as it is)."""
    severity = config.severities[incident.severity]
    via = f", {team_name(config, team)}" if team else ""
    where = f" Join {channel_link(channel_id)}." if channel_id else ""
    said = why if isinstance(why, str) else reason(why, incident, at)
    because = "" if said in ("", "declared") else f" ({said})"
    # A DM is outside the private channel of a restricted incident: no title there.
    title = subject(incident) if incident.restricted else escape(incident.title)
    text = (
        f":rotating_light: You are paged for *{incident.ref}* ({incident.severity}, "
        f"{escape(severity.name)}) as {role}{via}{because}: {title}.{where}"
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if incident.response_deadline and State(incident.state) == State.OPEN:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Respond by {when(incident.response_deadline)}")]
            )
        )
    actions = buttons(incident, include_resolve=False)
    if actions:
        blocks.append(actions)
    else:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{STATE_ICONS[State(incident.state)]} {incident.state}"
                        + (
                            f" by {mention(incident.acknowledged_by)}"
                            if incident.acknowledged_by
                            else ""
                        )
                    )
                ]
            )
        )
    return text, blocks


def incident_list(incidents: Sequence[Incident], *, channel: str | None = None) -> str:
    """`/incident list` typed in `channel`: one line per open incident (a restricted
    one's, outside its channel, says only that it is)."""
    if not incidents:
        return "No open incidents. :sunny:"
    lines = [f"*{len(incidents)} open incident{'s' if len(incidents) != 1 else ''}*"]
    for incident in incidents:
        where = f" {channel_link(incident.channel_id)}" if incident.channel_id else ""
        if not shows_details(incident, channel):
            icon = STATE_ICONS[State(incident.state)]
            lines.append(f"{icon} :lock: {restricted_line(incident)} · {incident.state}{where}")
            continue
        lines.append(f"{summary_line(incident)}{where}")
    return "\n".join(lines)


def incident_details(
    incident: Incident,
    config: Config,
    entries: Sequence[TimelineEntry],
    alerts: Sequence[Alert] = (),
) -> tuple[str, list[Block]]:
    """`/incident show INC-<n>`: the main message (with its alerts) plus the latest
    timeline entries (pins taken back left out)."""
    text, blocks = main_message(incident, config, channel_id=incident.channel_id, alerts=alerts)
    blocks = [b for b in blocks if not isinstance(b, ActionsBlock)]
    recent = shown(entries)[-15:]
    if recent:
        timeline = "\n".join(f"{when(e.at)} {events.line(e, incident, config)}" for e in recent)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Timeline*\n{timeline}"[:3000])))
    return text, blocks


def notice(incident: Incident, kind: str) -> str:
    """A plain DM about an incident: `declared` to its declarer, `informed` to an
    informed person without a channel."""
    title = subject(incident) if incident.restricted else escape(incident.title)
    if kind == "declared":
        return (
            f":rotating_light: You declared {incident.ref} ({incident.severity}): "
            f"{title}. Its channel is `#{incident.channel_name}`."
        )
    follow = (
        "Its channel is private: its members are the responders."
        if incident.restricted
        else f"Follow it in `#{incident.channel_name}`."
    )
    return (
        f":information_source: FYI: {incident.ref} ({incident.severity}) was declared: "
        f"{title}. {follow}"
    )
