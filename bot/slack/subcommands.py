"""`/incident` and its subcommands: one table, one dispatcher.

Each row names a subcommand, where it may be used, its arguments, its help line and
its handler (in the module of its group). `/incident help`, the answer to a
subcommand used in the wrong place and the usage shown after a `UsageError` are all
generated from the table. The incident of an incident-channel subcommand is looked up
here, once. A new subcommand is a handler plus one row.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit.edge import record_edge
from bot.config.duration import format_duration
from bot.core.escaping import escape
from bot.incidents.errors import UserError
from bot.runtime import Runtime
from bot.slack import (
    alerts,
    declaring,
    deploys,
    feedback,
    followups,
    governance,
    looking,
    rollback,
    runbooks,
    slo,
    timeline,
    working,
)
from bot.slack.errors import explain
from bot.slack.invocation import Handler, Invocation, Reply, UsageError
from bot.slack.parsing import parse_slack_id, parse_trigger_id, split
from bot.slack.postmortem import postmortem
from bot.store.incidents import incident_by_channel


class Where(Enum):
    """Where a subcommand may be typed."""

    ANYWHERE = "Anywhere"
    INCIDENT_CHANNEL = "In an incident channel"


@dataclass(frozen=True)
class Subcommand:
    """One row of the table."""

    name: str
    where: Where
    args: str
    help: str
    run: Handler

    @property
    def usage(self) -> str:
        """`/incident sev <P0-P3>`, as typed."""
        return "`" + " ".join(part for part in ("/incident", self.name, self.args) if part) + "`"


async def _help(call: Invocation) -> str:
    return help_text(call.runtime)


ANYWHERE, IN_CHANNEL = Where.ANYWHERE, Where.INCIDENT_CHANNEL
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("", ANYWHERE, "", "open the declare form", declaring.open_form),
    Subcommand(
        "declare",
        ANYWHERE,
        "<P0-P3> <title> [service:<name>] [area:<name>]",
        "declare right away",
        declaring.declare_now,
    ),
    Subcommand("list", ANYWHERE, "", "open incidents", looking.listed),
    Subcommand("show", ANYWHERE, "INC-<n>", "one incident with its timeline", looking.show),
    Subcommand("oncall", ANYWHERE, "[team]", "who is on call now and next", looking.oncall),
    Subcommand(
        "deploys",
        ANYWHERE,
        "[service]",
        "the last ten deploys and the rollback target",
        deploys.deploys,
    ),
    Subcommand(
        "feedback",
        ANYWHERE,
        "<service>",
        "the service's failure cases of the last 7 days, by kind, newest first",
        feedback.feedback,
    ),
    Subcommand(
        "slo",
        ANYWHERE,
        "<service>",
        "the service's SLIs now against its agreed targets, and the error budget left",
        slo.slo,
    ),
    Subcommand(
        "followups",
        ANYWHERE,
        "[@owner|all]",
        "open action items: yours, someone's or everyone's",
        followups.followups,
    ),
    Subcommand(
        "readiness",
        ANYWHERE,
        "<service>",
        "the launch-readiness checklist of a service",
        governance.readiness,
    ),
    Subcommand(
        "signoff",
        ANYWHERE,
        "<service> <role>",
        "approve a service's launch as its stakeholder",
        governance.signoff,
    ),
    Subcommand(
        "stage",
        ANYWHERE,
        "<service> <internal|beta|full>",
        "move a staged rollout (forward only when ready)",
        governance.stage,
    ),
    Subcommand(
        "raci",
        ANYWHERE,
        "[area|service]",
        "the RACI table, with who is on call now",
        governance.raci,
    ),
    Subcommand("help", ANYWHERE, "", "this list", _help),
    Subcommand(
        "ack",
        IN_CHANNEL,
        "",
        "acknowledge: stops escalation, records who and when",
        working.ack,
    ),
    Subcommand(
        "sev",
        IN_CHANNEL,
        "<P0-P3>",
        "change the severity; deadline and paging follow",
        working.sev,
    ),
    Subcommand("status", IN_CHANNEL, "<text>", "post a status update", working.status),
    Subcommand("lead", IN_CHANNEL, "<@user>", "set the incident lead", working.lead),
    Subcommand("note", IN_CHANNEL, "<text>", "add a timeline entry", working.note),
    Subcommand("timeline", IN_CHANNEL, "", "post the timeline here", timeline.timeline),
    Subcommand("postmortem", IN_CHANNEL, "", "post the postmortem summary here again", postmortem),
    Subcommand("page", IN_CHANNEL, "<team or @user>", "page someone now", working.page),
    Subcommand("escalate", IN_CHANNEL, "", "page the next escalation level now", working.escalate),
    Subcommand(
        "runbook", IN_CHANNEL, "[name]", "post the matching (or named) runbook", runbooks.show
    ),
    Subcommand(
        "impact",
        IN_CHANNEL,
        "start|end <time>",
        "when customers were first or last hurt (`14:05` UTC, `25m ago`, `now`)",
        followups.impact,
    ),
    Subcommand(
        "followup", IN_CHANNEL, "<text> [@owner]", "record an action item", followups.followup
    ),
    Subcommand(
        "alerts", IN_CHANNEL, "", "the incident's alerts: status, since, labels", alerts.alerts
    ),
    Subcommand("mitigated", IN_CHANNEL, "", "impact contained", working.mitigated),
    Subcommand(
        "resolve",
        IN_CHANNEL,
        "[summary]",
        "close it and post the postmortem summary",
        working.resolved,
    ),
    Subcommand(
        "rollback",
        IN_CHANNEL,
        "[service]",
        "roll the service back to its previous version (asks to confirm)",
        rollback.rollback_command,
    ),
)
BY_NAME = {sub.name: sub for sub in SUBCOMMANDS}


def help_text(runtime: Runtime) -> str:
    """`/incident help`: every subcommand, by where it works, and the severities."""
    lines = ["*firebell* - `/incident` commands"]
    for where in Where:
        lines.append(f"*{where.value}*")
        lines += [f"{sub.usage} - {sub.help}" for sub in SUBCOMMANDS if sub.where is where]
    levels = []
    for level, policy in runtime.config.severities.items():
        respond = policy.respond_within
        within = "the next sprint" if respond == "next_sprint" else format_duration(respond)
        levels.append(f"{level} {escape(policy.name)} (respond within {within})")
    lines.append("Severities: " + ", ".join(levels) + ".")
    return "\n".join(lines)


async def dispatch(runtime: Runtime, client: AsyncWebClient, command: dict[str, Any]) -> Reply:
    """Run the subcommand `command` names; raise UserError saying what to type instead."""
    typed = split(command.get("text", ""))
    sub = BY_NAME.get(typed.name)
    if sub is None:
        close = difflib.get_close_matches(typed.name, [s.name for s in SUBCOMMANDS if s.name], 1)
        hint = f" Did you mean {BY_NAME[close[0]].usage}?" if close else ""
        raise UserError(
            f"`/incident {escape(typed.name)}` is not a command.{hint} "
            "`/incident help` lists them all."
        )
    call = Invocation(
        runtime=runtime,
        client=client,
        user=parse_slack_id(command.get("user_id"), "user"),
        channel=parse_slack_id(command.get("channel_id"), "channel"),
        text=typed.rest,
        trigger_id=parse_trigger_id(command.get("trigger_id")),
    )
    if sub.where is IN_CHANNEL:
        incident = await runtime.store.run(incident_by_channel, channel_id=call.channel)
        if incident is None:
            raise UserError(
                f"`/incident {sub.name}` works in an incident channel (`#inc-<n>-...`). "
                "Run it there, or use `/incident list` to find the incident."
            )
        call = replace(call, incident=incident)
    try:
        answer = await sub.run(call)
    except UsageError as err:
        raise UsageError(f"{err} Usage: {sub.usage}") from err
    return answer if isinstance(answer, Reply) else Reply(answer)


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the `/incident` listener to `app`."""

    @app.command("/incident")
    async def incident_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            reply = await dispatch(runtime, client, command)
        except Exception as err:  # every failure becomes an answer (`explain`)
            await ack(response_type="ephemeral", text=explain(err))
            await _audit(runtime, command, err)
            return
        if reply.text or reply.blocks:
            await ack(response_type="ephemeral", text=reply.text, blocks=reply.blocks or None)
        else:
            await ack()
        await _audit(runtime, command, None)


async def _audit(runtime: Runtime, command: dict[str, Any], error: Exception | None) -> None:
    """The command's audit record, with how it ended (after the answer: Slack waits)."""
    name = split(command.get("text", "")).name
    known = (name or "form") if name in BY_NAME else "unknown"  # "": the declare form
    await record_edge(
        runtime.store,
        actor=str(command.get("user_id", ""))[:40],
        action=f"command.{known}",
        source="slack",
        error=error,
        detail={"channel": str(command.get("channel_id", ""))[:40]},
        pii=runtime.config.pii,
    )
