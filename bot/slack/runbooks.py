"""Runbooks from Slack: `/incident runbook [name]`, the `Runbook` button, ticking steps.

A tick is a `block_actions` click on a runbook's checkboxes. Slack sends the element's
whole selection and the message the clicker saw, so the listener hands the use case
both (what the click changed is worked out there, under the incident's lock). The click
is acked at once; every posted copy is then updated, and only a refusal is answered.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.incidents.errors import UserError
from bot.incidents.runbooks import post_runbook, tick_steps
from bot.messages.runbooks import STEPS_ACTION, StepsBlock
from bot.runtime import Runtime
from bot.slack.audited import audit_press
from bot.slack.errors import explain
from bot.slack.invocation import Invocation
from bot.slack.parsing import parse_slack_id
from bot.store.outage import describe, is_unreachable

if TYPE_CHECKING:
    from bot.slack.buttons import Press

log = logging.getLogger(__name__)


async def show(call: Invocation) -> str:
    """`/incident runbook [name]`."""
    runtime = call.runtime
    runbook = await runtime.run(
        post_runbook,
        runtime.config,
        runtime.runbooks,
        incident_id=call.here_id,
        actor=call.user,
        name=call.text.strip() or None,
    )
    return f":book: Posting the runbook *{runbook.title}* in this channel."


async def pressed(press: Press) -> None:
    """The main message's `Runbook` button: post the best matching runbook."""
    runtime = press.runtime
    await runtime.run(
        post_runbook,
        runtime.config,
        runtime.runbooks,
        incident_id=press.incident_id,
        actor=press.user,
    )


def shown_selection(message: object, block_id: str) -> set[str]:
    """The values ticked in the checkboxes of block `block_id` of the clicked message,
    as the clicker saw them (its `initial_options`)."""
    blocks = message.get("blocks") if isinstance(message, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict) or block.get("block_id") != block_id:
            continue
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == STEPS_ACTION:
                return _values(element.get("initial_options"))
    return set()


def _values(options: object) -> set[str]:
    if not isinstance(options, list):
        return set()
    return {str(o["value"]) for o in options if isinstance(o, dict) and "value" in o}


async def tick(runtime: Runtime, body: dict[str, Any]) -> None:
    """Store what one click on a runbook's checkboxes did (UserError when it cannot)."""
    action = body["actions"][0]
    where = StepsBlock.parse(str(action.get("block_id") or ""))
    if where is None:
        raise UserError("Those checkboxes belong to no runbook firebell posted.")
    selected: Collection[str] = _values(action.get("selected_options"))
    await runtime.run(
        tick_steps,
        runtime.config,
        runtime.runbooks,
        incident_id=where.incident_id,
        actor=parse_slack_id(body["user"]["id"], "user"),
        runbook=where.runbook,
        group=where.group,
        selected=selected,
        shown=shown_selection(body.get("message"), where.block_id),
    )


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the listener for clicks on runbook steps."""

    @app.action(STEPS_ACTION)
    async def ticked(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        failure: Exception | None = None
        try:
            await tick(runtime, body)
        except Exception as err:  # every failure becomes an answer (`explain`)
            failure = err
            if body.get("response_url"):
                await _answer(runtime, str(body["response_url"]), explain(err))
        await audit_press(runtime, body, failure)


async def _answer(runtime: Runtime, response_url: str, answer: str) -> None:
    try:
        await runtime.tell(response_url, answer)
    except Exception as err:
        if not is_unreachable(err):
            raise
        log.warning("could not answer a click on a runbook step: %s", describe(err))
