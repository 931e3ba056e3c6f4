"""Building the Bolt app: one `register` per listener module."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack import (
    buttons,
    declaring,
    followups,
    governance,
    pins,
    rollback,
    runbooks,
    subcommands,
)

log = logging.getLogger(__name__)


def build_bolt_app(
    runtime: Runtime, *, client: AsyncWebClient, token: str, signing_secret: str
) -> AsyncApp:
    """A Bolt app with every firebell listener, talking to Slack through `client`.

    `client` carries no token: with one, Bolt would authorize the first request by
    calling auth.test inline, and a slow or unreachable Slack would fail that request
    (a declaration) instead of letting it commit and be delivered later. The token is
    given per request by `authorize`, which never calls Slack.
    """

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    bolt_log = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _TokenFromEnvironment) for f in bolt_log.filters):
        bolt_log.addFilter(_TokenFromEnvironment())
    app = AsyncApp(
        client=client,
        authorize=authorize,
        signing_secret=signing_secret,
        # `bot.slack.endpoint` checks every HTTP request's signature before it parses
        # anything, and hands Bolt the fields it read, re-encoded: one check, there.
        request_verification_enabled=False,
        logger=bolt_log,
        # Every listener acks last, after its one use case: answering when the listener
        # returns saves the 10 ms Bolt otherwise spends polling for the ack.
        process_before_response=True,
    )
    subcommands.register(app, runtime)
    declaring.register(app, runtime)
    buttons.register(app, runtime)
    rollback.register(app, runtime)
    runbooks.register(app, runtime)
    followups.register(app, runtime)
    pins.register(app, runtime)
    governance.register(app, runtime)
    return app


class _TokenFromEnvironment(logging.Filter):
    """Drops Bolt's start-up warning that `token` will be unused.

    Bolt reads SLACK_BOT_TOKEN from the environment on its own, then warns that it
    ignores it because a `client` was given. That is the design above: the token
    reaches Bolt per request, through `authorize`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()
