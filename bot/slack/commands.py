"""The `/incident` slash command: parse, call one use case, answer."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError

from bot.core.escaping import channel_link, escape, parse_user
from bot.incidents.acknowledge import acknowledge
from bot.incidents.declare import declare
from bot.incidents.errors import NotInIncidentChannelError, UnknownIncidentError, UserError
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import (
    add_note,
    change_severity,
    mitigate,
    page_now,
    post_status,
    resolve,
    set_lead,
)
from bot.runtime import Runtime
from bot.slack import render
from bot.slack.errors import explain
from bot.slack.help import HELP
from bot.slack.modal import declare_modal
from bot.slack.oncall import oncall_text, utcnow
from bot.slack.parsing import parse_declare, parse_ref, split
from bot.store.incidents import (
    incident_by_channel,
    incident_by_number,
    open_incidents,
    timeline,
)
from bot.store.tables import Incident

IN_CHANNEL = {
    "ack",
    "sev",
    "status",
    "lead",
    "note",
    "page",
    "escalate",
    "mitigated",
    "resolve",
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the `/incident` listener to `app`."""

    @app.command("/incident")
    async def incident_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            await _dispatch(runtime, ack, command, client)
        except Exception as err:
            await ack(response_type="ephemeral", text=explain(err))


async def _dispatch(
    runtime: Runtime, ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient
) -> None:
    cmd = split(command.get("text", ""))
    user = command["user_id"]
    config = runtime.config

    if cmd.name == "":
        # views.open is one of the two calls Slack forces inline: its trigger_id
        # expires in 3 s, so it goes before the ack, and a failure is the ack's answer.
        await client.views_open(
            trigger_id=command["trigger_id"],
            view=declare_modal(config, origin_channel=command.get("channel_id", "")),
        )
        await ack()
        return
    if cmd.name == "help":
        await ack(response_type="ephemeral", text=HELP)
        return
    if cmd.name == "declare":
        declaration = parse_declare(cmd.rest, user=user, request_key=_request_key(command))
        try:
            result = await runtime.run(declare, config, declaration)
        except IntegrityError:
            # Slack's retry raced the first attempt, which won: answer with its incident.
            result = await runtime.run(declare, config, declaration)
        incident = result.incident
        await ack(
            response_type="ephemeral",
            text=f":rotating_light: {incident.ref} declared ({incident.severity}): "
            f"{escape(incident.title)}. Its channel is `#{incident.channel_name}`.",
        )
        return
    if cmd.name == "oncall":
        await ack(response_type="ephemeral", text=oncall_text(config, cmd.rest, now=utcnow()))
        return
    if cmd.name == "list":
        incidents = await runtime.store.run(open_incidents)
        await ack(response_type="ephemeral", text=render.incident_list(incidents))
        return
    if cmd.name == "show":
        incident = await _by_ref(runtime, cmd.rest or "")
        entries = await runtime.store.run(timeline, incident_id=incident.id or 0)
        text, blocks = render.incident_details(incident, config, entries)
        await ack(response_type="ephemeral", text=text, blocks=blocks)
        return
    if cmd.name not in IN_CHANNEL:
        raise UserError(
            f"`/incident {escape(cmd.name)}` is not a command. `/incident help` lists them all."
        )

    here: Incident | None = await runtime.store.run(
        incident_by_channel, channel_id=command["channel_id"]
    )
    if here is None:
        raise NotInIncidentChannelError(cmd.name)
    await ack(
        response_type="ephemeral",
        text=await _in_channel(runtime, cmd.name, cmd.rest, here, user),
    )


async def _in_channel(runtime: Runtime, name: str, rest: str, incident: Incident, user: str) -> str:
    config = runtime.config
    kwargs: dict[str, Any] = {"incident_id": incident.id, "actor": user}
    if name == "ack":
        result = await runtime.run(acknowledge, config, **kwargs)
        if result.changed:
            return f"You acknowledged {incident.ref}. Escalation stopped."
        who = result.incident.acknowledged_by
        return f"{incident.ref} was already acknowledged" + (f" by <@{who}>." if who else ".")
    if name == "sev":
        if not rest:
            raise UserError("Say the new severity: `/incident sev P1`.")
        changed = await runtime.run(change_severity, config, severity=rest, **kwargs)
        return f"{changed.ref} is now {changed.severity}."
    if name == "lead":
        lead = parse_user(rest)
        if lead is None:
            raise UserError("Mention the new lead: `/incident lead @alice`.")
        await runtime.run(set_lead, lead=lead, **kwargs)
        return f"<@{lead}> now leads {incident.ref}."
    if name == "note":
        await runtime.run(add_note, text=rest, **kwargs)
        return f"Added to the timeline of {incident.ref}."
    if name == "status":
        await runtime.run(post_status, config, text=rest, **kwargs)
        return "Status update posted."
    if name == "page":
        if not rest:
            raise UserError("Say whom to page: `/incident page @alice` or `/incident page ml`.")
        target = parse_user(rest) or rest.strip().lower()
        pages = await runtime.run(page_now, config, target=target, **kwargs)
        return "Paging " + ", ".join(f"<@{p.user}>" for p in pages) + "."
    if name == "escalate":
        pages = await runtime.run(escalate_now, config, **kwargs)
        return f"Escalated {incident.ref}: paging " + ", ".join(f"<@{p.user}>" for p in pages) + "."
    if name == "mitigated":
        await runtime.run(mitigate, config, **kwargs)
        return f"{incident.ref} is mitigated."
    await runtime.run(resolve, config, summary=rest, **kwargs)
    where = f" in {channel_link(incident.channel_id)}" if incident.channel_id else ""
    return f"{incident.ref} is resolved; its summary is posted{where}."


async def _by_ref(runtime: Runtime, text: str) -> Incident:
    number = parse_ref(text)
    incident = await runtime.store.run(incident_by_number, number=number)
    if incident is None:
        raise UnknownIncidentError(f"INC-{number}")
    return incident


def _request_key(command: dict[str, Any]) -> str | None:
    """Slack gives every invocation its own trigger_id; a retry repeats it."""
    trigger = command.get("trigger_id")
    return f"cmd:{trigger}" if trigger else None
