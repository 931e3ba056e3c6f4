"""Subcommands of the incident channel: working an incident from ack to resolve."""

from __future__ import annotations

from bot.core.escaping import parse_user
from bot.incidents.acknowledge import acknowledge
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import (
    add_note,
    change_severity,
    mitigate,
    post_status,
    resolve,
    set_lead,
)
from bot.incidents.paging import page_now
from bot.messages import answers
from bot.slack.invocation import Invocation, UsageError


async def ack(call: Invocation) -> str:
    """`/incident ack`."""
    result = await call.runtime.run(
        acknowledge, call.runtime.config, incident_id=call.here_id, actor=call.user
    )
    return answers.acknowledged(result.incident, changed=result.changed)


async def sev(call: Invocation) -> str:
    """`/incident sev <P0-P3>`."""
    if not call.text:
        raise UsageError("Say the new severity.")
    changed = await call.runtime.run(
        change_severity,
        call.runtime.config,
        incident_id=call.here_id,
        actor=call.user,
        severity=call.text,
    )
    return answers.severity_changed(changed)


async def status(call: Invocation) -> str:
    """`/incident status <text>`."""
    await call.runtime.run(
        post_status,
        call.runtime.config,
        incident_id=call.here_id,
        actor=call.user,
        text=call.text,
    )
    return answers.status_posted()


async def lead(call: Invocation) -> str:
    """`/incident lead <@user>`."""
    who = parse_user(call.text)
    if who is None:
        raise UsageError("Mention the new lead.")
    await call.runtime.run(set_lead, incident_id=call.here_id, actor=call.user, lead=who)
    return answers.lead_set(call.here, who)


async def note(call: Invocation) -> str:
    """`/incident note <text>`."""
    await call.runtime.run(
        add_note, call.runtime.config, incident_id=call.here_id, actor=call.user, text=call.text
    )
    return answers.noted(call.here)


async def page(call: Invocation) -> str:
    """`/incident page <team or @user>`."""
    if not call.text:
        raise UsageError("Say whom to page.")
    target = parse_user(call.text) or call.text.strip().lower()
    pages = await call.runtime.run(
        page_now, call.runtime.config, incident_id=call.here_id, actor=call.user, target=target
    )
    return answers.paging(pages)


async def escalate(call: Invocation) -> str:
    """`/incident escalate`."""
    pages = await call.runtime.run(
        escalate_now, call.runtime.config, incident_id=call.here_id, actor=call.user
    )
    return answers.escalated(call.here, pages)


async def mitigated(call: Invocation) -> str:
    """`/incident mitigated`."""
    incident = await call.runtime.run(
        mitigate, call.runtime.config, incident_id=call.here_id, actor=call.user
    )
    return answers.mitigated(incident)


async def resolved(call: Invocation) -> str:
    """`/incident resolve [summary]`."""
    incident = await call.runtime.run(
        resolve, call.runtime.config, incident_id=call.here_id, actor=call.user, summary=call.text
    )
    return answers.resolved(incident)
