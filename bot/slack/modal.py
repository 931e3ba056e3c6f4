"""The declare form (`/incident` with no arguments) and its submission."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from sqlalchemy.exc import IntegrityError

from bot.config.model import Config
from bot.core.escaping import escape
from bot.incidents import messages
from bot.incidents.declare import Declaration, Declared, declare, validate
from bot.incidents.errors import UserError
from bot.runtime import Runtime
from bot.slack.errors import explain
from bot.store.db import db_now
from bot.store.tables import Incident

CALLBACK = "declare_incident"


def declare_modal(config: Config, *, origin_channel: str) -> View:
    """The form: title, severity, area or service, description."""
    severities = [
        Option(value=level, text=f"{level} · {policy.name}"[:75])
        for level, policy in config.severities.items()
    ]
    scopes = [
        Option(value=f"service:{name}", text=f"Service: {name}"[:75]) for name in config.services
    ] + [
        Option(value=f"area:{key}", text=f"Area: {area.name}"[:75])
        for key, area in config.areas.items()
    ]
    return View(
        type="modal",
        callback_id=CALLBACK,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=json.dumps({"channel": origin_channel}),
        blocks=[
            InputBlock(
                block_id="title",
                label="Title",
                element=PlainTextInputElement(
                    action_id="value",
                    max_length=200,
                    placeholder="Checkout assistant gives wrong prices",
                ),
            ),
            InputBlock(
                block_id="severity",
                label="Severity",
                element=StaticSelectElement(
                    action_id="value", options=severities, initial_option=severities[1]
                ),
            ),
            InputBlock(
                block_id="scope",
                label="Service or area",
                element=StaticSelectElement(
                    action_id="value", options=scopes[:100], initial_option=scopes[0]
                ),
            ),
            InputBlock(
                block_id="description",
                label="What is happening?",
                optional=True,
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=2900),
            ),
        ],
    )


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
    )


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the form's submission listener to `app`."""

    @app.view(CALLBACK)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        user = body["user"]["id"]
        declaration = read_submission(body["view"], user=user)
        try:
            validate(runtime.config, declaration)
        except UserError as err:
            block = "severity" if "severity" in str(err) else "title"
            if "service" in str(err).lower() or "area" in str(err).lower():
                block = "scope"
            await ack(response_action="errors", errors={block: str(err)[:150]})
            return
        try:
            try:
                await runtime.run(_declare_and_confirm, runtime.config, declaration)
            except IntegrityError:
                # A resubmission raced the first one, which won: it is declared.
                await runtime.run(_declare_and_confirm, runtime.config, declaration)
        except Exception as err:
            await ack(response_action="errors", errors={"title": explain(err)[:150]})
            return
        await ack()


def _declare_and_confirm(session: Any, config: Config, declaration: Declaration) -> Declared:
    result = declare(session, config, declaration)
    if result.created:
        incident: Incident = result.incident
        messages.notice(
            session,
            incident,
            user=declaration.declared_by,
            now=db_now(session),
            text=f":rotating_light: You declared {incident.ref} ({incident.severity}): "
            f"{escape(incident.title)}. Its channel is `#{incident.channel_name}`.",
        )
    return result
