"""Buttons on main messages, mirrors and pages: one table, one listener each.

A button's value is its incident's id, read here once. A press is acked at once; what
it did shows in the messages it refreshes, and only a refusal or a no-op is answered,
ephemerally, through the press's response_url: queued in the outbox like every other
message, except while the database (where the outbox lives) cannot be reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.incidents.acknowledge import acknowledge
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import resolve
from bot.messages import answers
from bot.messages.incident import ACK, ESCALATE, RESOLVE
from bot.messages.runbooks import RUNBOOK_BUTTON
from bot.runtime import Runtime
from bot.slack import runbooks
from bot.slack.audited import audit_press
from bot.slack.errors import explain
from bot.slack.parsing import parse_incident_id, parse_slack_id
from bot.store.outage import describe, is_unreachable

log = logging.getLogger(__name__)

# Seconds an answer posted at once may take: the press's HTTP answer waits for it, and
# Slack gives up on that after 3 s.
INLINE_TIMEOUT = 2.0


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
    RUNBOOK_BUTTON: runbooks.pressed,
}


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add a listener for every button of the table."""
    for action_id, handler in BUTTONS.items():
        app.action(action_id)(_listener(runtime, handler))


def _listener(
    runtime: Runtime, handler: Callable[[Press], Awaitable[str | None]]
) -> Callable[[AsyncAck, dict[str, Any], AsyncRespond], Awaitable[None]]:
    async def pressed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()

        async def work() -> str | None:
            user = parse_slack_id(body["user"]["id"], "user")
            press = Press(runtime, user, parse_incident_id(body["actions"][0].get("value")))
            return await handler(press)

        await answered(runtime, body, respond, work)

    return pressed


async def answered(
    runtime: Runtime,
    body: dict[str, Any],
    respond: AsyncRespond,
    work: Callable[[], Awaitable[str | None]],
) -> None:
    """Do an acked press's `work`, answer the presser with what it says (every failure
    becomes an answer: `explain`), then record the press and how it ended."""
    outage = False
    failure: Exception | None = None
    try:
        answer = await work()
    except Exception as err:  # every failure becomes an answer (`explain`)
        answer = explain(err)
        outage = is_unreachable(err)
        failure = err
    if answer and body.get("response_url"):
        await answer_press(runtime, respond, str(body["response_url"]), answer, outage=outage)
    await audit_press(runtime, body, failure)


async def answer_press(
    runtime: Runtime, respond: AsyncRespond, response_url: str, answer: str, *, outage: bool
) -> None:
    """Queue `answer` to the presser; while the database is away, post it at once."""
    if not outage:
        try:
            await runtime.tell(response_url, answer)
        except Exception as err:
            if not is_unreachable(err):
                raise
            log.warning("could not queue a button's answer (%s); posting it at once", describe(err))
        else:
            return
    try:
        async with asyncio.timeout(INLINE_TIMEOUT):
            await respond(text=answer, response_type="ephemeral", replace_original=False)
    except (aiohttp.ClientError, TimeoutError) as err:
        log.warning("could not answer a button press at once: %s", type(err).__name__)
