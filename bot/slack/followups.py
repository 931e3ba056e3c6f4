"""Follow-ups and impact moments from Slack: `/incident followup`, `followups`, `impact`,
and the `Done` button on a posted follow-up.

`Done` carries the follow-up's id (not the incident's, as the main message's buttons
do), so it has a listener of its own. Like every button it is acked at once; what it
did shows in the message it updates, and only a no-op or a refusal is answered.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.core.escaping import parse_user
from bot.incidents.errors import UserError
from bot.incidents.followups import add, list_open, mark_done
from bot.incidents.impact import set_impact
from bot.messages import followups as words
from bot.runtime import Runtime
from bot.slack.buttons import answered
from bot.slack.invocation import Invocation, UsageError
from bot.slack.parsing import MAX_NUMBER, parse_slack_id


def owner_and_text(text: str) -> tuple[str | None, str]:
    """The owner a leading or trailing `<@U…>` mention names (None without one), and the
    rest of the text: `Add an alert <@U1>` -> ("U1", "Add an alert"); a mention elsewhere
    stays part of the text."""
    typed = text.strip()
    parts = typed.split()
    for index in (-1, 0) if parts else ():
        word = parts[index]
        owner = parse_user(word) if word.startswith("<@") else None
        if owner is not None:
            rest = typed[: -len(word)] if index == -1 else typed[len(word) :]
            return owner, rest.strip()
    return None, typed


async def followup(call: Invocation) -> str:
    """`/incident followup <text> [@owner]`."""
    if not call.text:
        raise UsageError("Say what needs doing, and mention its owner if it is not you.")
    owner, text = owner_and_text(call.text)
    added = await call.runtime.run(
        add, call.runtime.config, incident_id=call.here_id, actor=call.user, text=text, owner=owner
    )
    return words.added(added.followup, added.incident)


async def followups(call: Invocation) -> str:
    """`/incident followups [@owner|all]`."""
    asked = call.text.strip()
    owner: str | None
    if not asked:
        owner = call.user
    elif asked.lower() == "all":
        owner = None
    else:
        owner = parse_user(asked) if asked.startswith("<@") else None
        if owner is None:
            raise UsageError(
                "Mention whose follow-ups to list (pick them from Slack's list after `@`), "
                "say `all`, or say nothing for yours."
            )
    found = await call.runtime.run(list_open, owner=owner)
    return words.listing(
        found.items, total=found.total, owner=owner, asker=call.user, now=found.now
    )


async def impact(call: Invocation) -> str:
    """`/incident impact start|end <time>`."""
    edge, _, moment = call.text.partition(" ")
    edge = edge.lower()
    if edge not in ("start", "end"):
        raise UsageError("Say whether the impact started or ended, and when.")
    incident = await call.runtime.run(
        set_impact, incident_id=call.here_id, actor=call.user, edge=edge, moment=moment
    )
    return words.impact_set(incident, edge)


def parse_followup_id(value: object) -> int:
    """The follow-up id a `Done` button carries as its value."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
        if 0 < number <= MAX_NUMBER:
            return number
    raise UserError("That button names no follow-up firebell knows; nothing was changed.")


async def press_done(runtime: Runtime, body: dict[str, Any]) -> str | None:
    """Mark the pressed follow-up done; the answer when it was done already."""
    user = parse_slack_id(body["user"]["id"], "user")
    followup_id = parse_followup_id(body["actions"][0].get("value"))
    done = await runtime.run(mark_done, followup_id=followup_id, actor=user)
    return None if done.changed else f":information_source: {words.already_done(done.followup)}"


def register(app: AsyncApp, runtime: Runtime) -> None:
    """Add the listener for `Done` on posted follow-ups."""

    @app.action(words.DONE_ACTION)
    async def pressed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await answered(runtime, body, respond, lambda: press_done(runtime, body))
