"""Rollback from Slack: the `Rollback` button, `/incident rollback [service]`, and the
confirmation's submission.

Both ways open the same confirmation modal with views.open (its trigger_id expires in
3 s, so it is the one inline call here). Permission is checked when it opens and again
when it is submitted; a refusal is answered ephemerally and is in the audit trail.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.escaping import escape
from bot.incidents.errors import UserError
from bot.incidents.rollback import Plan, Refusal, prepare, start
from bot.messages import rollback as words
from bot.runtime import Runtime
from bot.slack.audited import audit_press, audit_submission
from bot.slack.buttons import answer_press
from bot.slack.errors import explain
from bot.slack.invocation import Invocation, Reply
from bot.slack.parsing import parse_incident_id, parse_slack_id, parse_trigger_id
from bot.store.incidents import get_incident
from bot.store.outage import is_unreachable

FORM_TIMEOUT = 2.5  # seconds views.open may take before the confirmation is given up on


async def confirm(
    runtime: Runtime,
    client: AsyncWebClient,
    *,
    user: str,
    incident_id: int,
    service: str | None,
    trigger_id: str | None,
) -> Refusal | str | None:
    """Open the confirmation, or say why not: the refusal (audited by `prepare`), or
    that there is no previous version."""
    plan = await runtime.run(
        prepare, runtime.config, incident_id=incident_id, user=user, service=service
    )
    if isinstance(plan, Refusal):
        return plan
    if plan.target is None:
        return words.no_previous_version(plan.service, plan.environment, plan.current)
    incident = await runtime.run(get_incident, incident_id=incident_id)
    assert incident is not None  # noqa: S101 - prepare found it
    view = words.confirm_modal(
        incident_id=incident_id,
        ref=incident.ref,
        service=plan.service,
        environment=plan.environment,
        current=plan.current,
        target=plan.target,
    )
    try:
        async with asyncio.timeout(FORM_TIMEOUT):
            await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as err:
        raise UserError(
            f"Slack did not open the confirmation (`{escape(str(err.response.get('error')))}`)."
            " Try again."
        ) from err
    except (TimeoutError, aiohttp.ClientError) as err:
        raise UserError(
            "Slack did not answer in time to open the confirmation. Try again."
        ) from err
    return None


async def rollback_command(call: Invocation) -> Reply:
    """`/incident rollback [service]`."""
    answer = await confirm(
        call.runtime,
        call.client,
        user=call.user,
        incident_id=call.here_id,
        service=call.text.strip() or None,
        trigger_id=call.trigger_id,
    )
    return Reply(answer.message if isinstance(answer, Refusal) else answer or "")


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the button's and the confirmation's listeners to `app`."""

    @app.action(words.ROLLBACK)
    async def pressed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        outage = False
        failure: Exception | None = None
        outcome: str | None = None
        answer: str | None
        try:
            confirmed = await confirm(
                runtime,
                client,
                user=parse_slack_id(body["user"]["id"], "user"),
                incident_id=parse_incident_id(body["actions"][0].get("value")),
                service=None,
                trigger_id=parse_trigger_id(body.get("trigger_id")),
            )
            if isinstance(confirmed, Refusal):
                answer, outcome = confirmed.message, "refused"
            else:
                answer = confirmed
        except Exception as err:  # every failure becomes an answer (`explain`)
            answer = explain(err)
            outage = is_unreachable(err)
            failure = err
        if answer and body.get("response_url"):
            await answer_press(runtime, respond, body["response_url"], answer, outage=outage)
        await audit_press(runtime, body, failure, outcome=outcome)

    @app.view(words.CONFIRM_FORM)
    async def submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            view = body["view"]
            shown = json.loads(view.get("private_metadata") or "{}")
            values = view["state"]["values"]
            reason = str(values.get(words.REASON, {}).get("value", {}).get("value") or "")
            service = str(shown["service"])
            started = await runtime.run(
                start,
                runtime.config,
                incident_id=int(shown["incident"]),
                user=parse_slack_id(body["user"]["id"], "user"),
                service=service,
                reason=reason,
                shown=Plan(service, "", shown.get("from"), shown.get("to")),
            )
        except Exception as err:  # UserError and the rest: shown on the reason field
            await ack(response_action="errors", errors={words.REASON: explain(err)[:150]})
            await audit_submission(runtime, body, err)
            return
        if isinstance(started, Refusal):
            await ack(
                response_action="errors",
                errors={words.REASON: started.message[:150]},
            )
            await audit_submission(runtime, body, None, outcome="refused")
            return
        await ack()
        await audit_submission(runtime, body, None)
