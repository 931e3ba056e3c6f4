"""Declaring from Slack: the bare `/incident` (the form), `declare`, and the form's submission."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.core.escaping import escape
from bot.incidents.declare import Declaration, declare
from bot.incidents.errors import UserError
from bot.messages import answers
from bot.messages.forms import DECLARE_FORM, declare_modal
from bot.runtime import Runtime
from bot.slack.audited import audit_submission
from bot.slack.errors import explain
from bot.slack.invocation import Invocation, Reply
from bot.slack.parsing import DECLARE_USAGE, parse_declare, parse_slack_id

FORM_TIMEOUT = 2.5  # seconds views.open may take before the form is given up on


async def open_form(call: Invocation) -> Reply:
    """`/incident`: open the declare form.

    views.open is one of the two calls Slack forces inline: its trigger_id expires in
    3 s, so it goes before the ack, and a failure is the ack's answer.
    """
    form = declare_modal(call.runtime.config, origin_channel=call.channel)
    try:
        # The trigger_id dies after 3 s, and Slack wants its ack by then too.
        async with asyncio.timeout(FORM_TIMEOUT):
            await call.client.views_open(trigger_id=call.trigger_id, view=form)
    except SlackApiError as err:  # most often a trigger_id that expired on the way
        raise UserError(
            f"Slack did not open the form (`{escape(str(err.response.get('error')))}`). "
            f"Run `/incident` again, or declare at once: {DECLARE_USAGE}"
        ) from err
    except (TimeoutError, aiohttp.ClientError) as err:
        raise UserError(
            "Slack did not answer in time to open the form. "
            f"Run `/incident` again, or declare at once: {DECLARE_USAGE}"
        ) from err
    return Reply()


async def declare_now(call: Invocation) -> str:
    """`/incident declare <P0-P3> <title> [service:] [area:]`."""
    # Slack gives every invocation its own trigger_id; a retry repeats it.
    key = f"cmd:{call.trigger_id}" if call.trigger_id else None
    declaration = parse_declare(call.text, user=call.user, request_key=key)
    result = await call.runtime.run(declare, call.runtime.config, declaration)
    return answers.declared(result.incident)


def read_submission(view: dict[str, Any], *, user: str) -> Declaration:
    """The Declaration a submitted form asks for (its shape is checked by `bot.slack.shapes`)."""
    values = view["state"]["values"]

    def text(block: str) -> str:
        return str(values.get(block, {}).get("value", {}).get("value") or "")

    def selected(block: str) -> str:
        option = values.get(block, {}).get("value", {}).get("selected_option") or {}
        return str(option.get("value") or "")

    kind, _, name = selected("scope").partition(":")
    return Declaration(
        title=text("title"),
        severity=selected("severity"),
        declared_by=parse_slack_id(user, "user"),
        service=name if kind == "service" else None,
        area=name if kind == "area" else None,
        description=text("description"),
        request_key=f"view:{parse_slack_id(view['id'], 'view')}",
        dm_declarer=True,
    )


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the form's submission listener to `app`."""

    @app.view(DECLARE_FORM)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            declaration = read_submission(body["view"], user=body["user"]["id"])
            await runtime.run(declare, runtime.config, declaration)
        except UserError as err:
            await ack(response_action="errors", errors={err.field or "title": str(err)[:150]})
            await audit_submission(runtime, body, err)
            return
        except Exception as err:
            await ack(response_action="errors", errors={"title": explain(err)[:150]})
            await audit_submission(runtime, body, err)
            return
        await ack()
        await audit_submission(runtime, body, None)
