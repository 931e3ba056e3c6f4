"""Buttons: `Acknowledge`, `Escalate` and `Resolve` on main messages, mirrors and pages."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.incidents.acknowledge import acknowledge
from bot.incidents.errors import UserError
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import resolve
from bot.runtime import Runtime
from bot.slack import render
from bot.slack.errors import explain


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the button listeners to `app`."""

    @app.action(render.ACK)
    async def acknowledge_pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await _act(runtime, body, "ack")

    @app.action(render.ESCALATE)
    async def escalate_pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await _act(runtime, body, "escalate")

    @app.action(render.RESOLVE)
    async def resolve_pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await _act(runtime, body, "resolve")


async def _act(runtime: Runtime, body: dict[str, Any], what: str) -> None:
    user = body["user"]["id"]
    response_url = body.get("response_url")
    answer: str | None = None
    try:
        incident_id = int(body["actions"][0]["value"])
        if what == "ack":
            result = await runtime.run(
                acknowledge, runtime.config, incident_id=incident_id, actor=user
            )
            who = result.incident.acknowledged_by
            if not result.changed:
                answer = explain(
                    UserError(
                        f"{result.incident.ref} was already acknowledged"
                        + (f" by <@{who}>." if who else ".")
                    )
                )
        elif what == "escalate":
            await runtime.run(escalate_now, runtime.config, incident_id=incident_id, actor=user)
        else:
            await runtime.run(resolve, runtime.config, incident_id=incident_id, actor=user)
    except Exception as err:  # every failure becomes an answer
        answer = explain(err)
    if answer and response_url:
        await runtime.tell(response_url, answer)
