"""`reaction_added` and `reaction_removed` events: :pushpin: pins a message to the timeline.

Slack wants an event answered within 3 s and retries it otherwise (`X-Slack-Retry-Num`,
same `event_id`): the listener reads the event, runs one short use case (note the event,
queue the pin) and acks. A retry, a reaction that is not :pushpin:, an item that is not
a message, a channel of no incident, a resolved incident: answered 200, nothing
recorded, nothing said. An event that is not shaped as Slack sends it is acked too (a
retry would be shaped the same), with one warning line. A database that cannot be
reached fails the request (HTTP 500), so Slack delivers the event again later.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.text import is_slack_id
from bot.incidents.pins import Reaction, take_reaction
from bot.runtime import Runtime

log = logging.getLogger(__name__)
MAX_EVENT_ID = 60  # what SlackEvent.event_id holds; Slack's are about 11 characters
MAX_TS = 20  # `1712345678.123456`


def reaction_of(body: dict[str, Any], *, added: bool) -> Reaction | None:
    """The reaction an `event_callback` envelope reports, or None if it is not about a
    message or not shaped as Slack sends it."""
    event, event_id = body.get("event"), body.get("event_id")
    if not isinstance(event, dict) or not isinstance(event_id, str):
        return None
    item = event.get("item")
    if not isinstance(item, dict) or item.get("type") != "message":
        return None
    name, user = event.get("reaction"), event.get("user")
    channel, ts = item.get("channel"), item.get("ts")
    if not (
        isinstance(name, str)
        and isinstance(user, str)
        and is_slack_id(user)
        and isinstance(channel, str)
        and is_slack_id(channel)
        and isinstance(ts, str)
        and _is_ts(ts)
        and 0 < len(event_id) <= MAX_EVENT_ID
    ):
        return None
    return Reaction(event_id, added, name, user, channel, ts)


def _is_ts(ts: str) -> bool:
    seconds, dot, fraction = ts.partition(".")
    return len(ts) <= MAX_TS and bool(dot) and seconds.isdigit() and fraction.isdigit()


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the listeners for reactions added and removed."""

    async def handle(ack: AsyncAck, body: dict[str, Any], *, added: bool) -> None:
        reaction = reaction_of(body, added=added)
        if reaction is None:
            if _is_message_item(body):
                log.warning("ignored a reaction event not shaped as Slack sends it")
            await ack()
            return
        await runtime.run(take_reaction, reaction)
        await ack()

    @app.event("reaction_added")
    async def reaction_added(ack: AsyncAck, body: dict[str, Any]) -> None:
        await handle(ack, body, added=True)

    @app.event("reaction_removed")
    async def reaction_removed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await handle(ack, body, added=False)


def _is_message_item(body: dict[str, Any]) -> bool:
    event = body.get("event")
    item = event.get("item") if isinstance(event, dict) else None
    return isinstance(item, dict) and item.get("type") == "message"
