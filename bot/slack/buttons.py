"""Buttons on main messages, mirrors and pages: one table, one listener each.

A button's value is its incident's id, read here once. A press is acked at once; what
it did shows in the messages it refreshes, and only a refusal or a no-op is answered,
ephemerally, through the press's response_url.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.incidents.acknowledge import acknowledge
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import resolve
from bot.messages import answers
from bot.messages.incident import ACK, ESCALATE, RESOLVE
from bot.runtime import Runtime
from bot.slack.errors import explain


@dataclass(frozen=True)
class Press:
    """Who pressed which incident's button."""

    runtime: Runtime
    user: str
    incident_id: int


async def _acknowledge(press: Press) -> str | None:
    result = await press.runtime.run(
        acknowledge, press.runtime.config, incident_id=press.incident_id, actor=press.user
    )
    return None if result.changed else f":warning: {answers.already_acknowledged(result.incident)}"


async def _escalate(press: Press) -> None:
    await press.runtime.run(
        escalate_now, press.runtime.config, incident_id=press.incident_id, actor=press.user
    )


async def _resolve(press: Press) -> None:
    await press.runtime.run(
        resolve, press.runtime.config, incident_id=press.incident_id, actor=press.user
    )


BUTTONS: dict[str, Callable[[Press], Awaitable[str | None]]] = {
    ACK: _acknowledge,
    ESCALATE: _escalate,
    RESOLVE: _resolve,
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add a listener for every button of the table."""
    for action_id, handler in BUTTONS.items():
        app.action(action_id)(_listener(runtime, handler))


def _listener(
    runtime: Runtime, handler: Callable[[Press], Awaitable[str | None]]
) -> Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]:
    async def pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        answer: str | None
        try:
            press = Press(runtime, body["user"]["id"], int(body["actions"][0]["value"]))
            answer = await handler(press)
        except Exception as err:  # every failure becomes an answer (`explain`)
            answer = explain(err)
        if answer and body.get("response_url"):
            await runtime.tell(body["response_url"], answer)

    return pressed
