"""Building the Bolt app: one `register` per listener module."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack import actions, commands, modal

log = logging.getLogger(__name__)


def build_bolt_app(runtime: Runtime, *, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    """A Bolt app with every firebell listener, talking to Slack through `client`."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        logger=logging.getLogger("bot.slack.bolt"),
        # The ack goes out as soon as a listener calls it; the listener may finish after.
        process_before_response=False,
    )
    commands.register(app, runtime)
    modal.register(app, runtime)
    actions.register(app, runtime)
    return app
