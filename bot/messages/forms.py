"""Forms (Slack modals), built with `slack_sdk.models.views` (which checks limits)."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from bot.config.model import Config

DECLARE_FORM = "declare_incident"


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
        callback_id=DECLARE_FORM,
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
