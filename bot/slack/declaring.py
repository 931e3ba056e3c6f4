"""Declaring from Slack: the bare `/incident` (the form), `declare`, and the form's submission."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.incidents.declare import Declaration, declare
from bot.incidents.errors import UserError
from bot.messages import answers
from bot.messages.forms import DECLARE_FORM, declare_modal
from bot.runtime import Runtime
from bot.slack.errors import explain
from bot.slack.invocation import Invocation, Reply
from bot.slack.parsing import parse_declare


async def open_form(call: Invocation) -> Reply:
    """`/incident`: open the declare form.

    views.open is one of the two calls Slack forces inline: its trigger_id expires in
    3 s, so it goes before the ack, and a failure is the ack's answer.
    """
    form = declare_modal(call.runtime.config, origin_channel=call.channel)
    await call.client.views_open(trigger_id=call.trigger_id, view=form)
    return Reply()


async def declare_now(call: Invocation) -> str:
    """`/incident declare <P0-P3> <title> [service:] [area:]`."""
    # Slack gives every invocation its own trigger_id; a retry repeats it.
    key = f"cmd:{call.trigger_id}" if call.trigger_id else None
    declaration = parse_declare(call.text, user=call.user, request_key=key)
    result = await call.runtime.run(declare, call.runtime.config, declaration)
    return answers.declared(result.incident)


def read_submission(view: dict[str, Any], *, user: str) -> Declaration:
    """The Declaration a submitted form asks for."""
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
        declared_by=user,
        service=name if kind == "service" else None,
        area=name if kind == "area" else None,
        description=text("description"),
        request_key=f"view:{view['id']}",
        dm_declarer=True,
    )


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the form's submission listener to `app`."""

    @app.view(DECLARE_FORM)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        declaration = read_submission(body["view"], user=body["user"]["id"])
        try:
            await runtime.run(declare, runtime.config, declaration)
        except UserError as err:
            await ack(response_action="errors", errors={err.field or "title": str(err)[:150]})
            return
        except Exception as err:
            await ack(response_action="errors", errors={"title": explain(err)[:150]})
            return
        await ack()
