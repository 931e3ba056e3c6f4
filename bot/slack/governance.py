"""`/incident readiness`, `signoff`, `stage` and `raci`, and the readiness message's
`Sign off` buttons: parse, run one use case, answer (docs/governance.md)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.config.source import did_you_mean
from bot.core.escaping import escape
from bot.governance.answers import signoff_answer, stage_answer
from bot.governance.gather import readiness as read_readiness
from bot.governance.raci_table import raci_blocks
from bot.governance.render import DASHBOARD_ACTION, SIGN_OFF_ACTION, slack_readiness
from bot.governance.signoffs import sign_off
from bot.governance.staging import move_stage
from bot.incidents.errors import UserError
from bot.runtime import Runtime
from bot.slack.buttons import answered
from bot.slack.invocation import Invocation, Reply, UsageError
from bot.slack.parsing import parse_slack_id


def _service(call: Invocation, name: str) -> str:
    """`name` if it is a service of the config; else a UserError naming the services."""
    services = call.runtime.config.services
    if name in services:
        return name
    known = ", ".join(f"`{escape(s)}`" for s in sorted(services)) or "none configured"
    hint = did_you_mean(name, services).removeprefix("; ")
    hint = f" {escape(hint[0].upper() + hint[1:])}." if hint else ""
    raise UserError(f"There is no service `{escape(name)}`.{hint} Known services: {known}.")


async def readiness(call: Invocation) -> Reply:
    """`/incident readiness <service>`: the launch checklist, with buttons."""
    words = call.text.split()
    if len(words) != 1:
        raise UsageError("Name one service.")
    service = _service(call, words[0])
    runtime = call.runtime
    found = await runtime.run(read_readiness, runtime.config, runtime.runbooks, service=service)
    settings = runtime.config.services[service]
    text, blocks = slack_readiness(
        found,
        viewer=call.user,
        stakeholders=settings.readiness.stakeholders,
        dashboard=settings.dashboard,
    )
    return Reply(text, blocks)


async def signoff(call: Invocation) -> str:
    """`/incident signoff <service> <role>`: the typist approves as that stakeholder."""
    words = call.text.split()
    if len(words) != 2:
        raise UsageError("Name the service and your stakeholder role.")
    runtime = call.runtime
    result = await runtime.run(
        sign_off, runtime.config, service=words[0], role=words[1], user=call.user
    )
    return signoff_answer(result)


async def stage(call: Invocation) -> str:
    """`/incident stage <service> <stage>`: move a staged rollout."""
    words = call.text.split()
    if len(words) != 2:
        raise UsageError("Name the service and the stage (internal, beta or full).")
    runtime = call.runtime
    result = await runtime.run(
        move_stage,
        runtime.config,
        runtime.runbooks,
        service=words[0],
        stage=words[1].lower(),
        user=call.user,
    )
    return stage_answer(result)


async def raci(call: Invocation) -> Reply:
    """`/incident raci [area|service]`: the RACI table with who is on call now."""
    text, blocks = raci_blocks(call.runtime.config, call.text.strip(), datetime.now(UTC))
    return Reply(text, blocks)


async def press_sign_off(runtime: Runtime, body: dict[str, Any]) -> str:
    """A `Sign off as <role>` button: the presser signs (if they are the one named)."""
    user = parse_slack_id(body["user"]["id"], "user")
    try:
        value = json.loads(str(body["actions"][0].get("value")))
        service, role = str(value["service"]), str(value["role"])
    except (ValueError, KeyError, TypeError):
        raise UserError(
            "That button names no sign-off firebell knows; nothing was recorded."
        ) from None
    result = await runtime.run(sign_off, runtime.config, service=service, role=role, user=user)
    return signoff_answer(result)


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the listeners of the readiness message's buttons."""

    @app.action(re.compile(rf"^{SIGN_OFF_ACTION}(:.*)?$"))
    async def pressed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await answered(runtime, body, respond, lambda: press_sign_off(runtime, body))

    @app.action(DASHBOARD_ACTION)
    async def opened(ack: AsyncAck) -> None:
        await ack()  # Slack opens the link itself
