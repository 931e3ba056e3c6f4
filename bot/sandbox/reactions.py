"""Emoji reactions on messages: `reactions.add`, `reactions.remove`, `reactions.get`,
and a person reacting in the sandbox page.

A message keeps its reactions as name -> the users who reacted, in the order they did
(`Message.reactions`); Slack lists them so, with a `count`, on the message itself
(`conversations.history`) and in `reactions.get`. The Web API methods act as the bot
(the token's user); `react_as` acts for a person, as the sandbox page does.
"""

from __future__ import annotations

import re

from bot.sandbox.model import BOT_USER_ID, Json, Message, SlackError
from bot.sandbox.workspace import Workspace

MAX_REACTIONS = 23  # Slack's limit of distinct reactions on one message ("too_many_emoji")
_NAME = re.compile(r"[a-z0-9_+'-]{1,100}")  # an emoji's name, without colons or skin tone


def reacted(message: Message, user: str, name: str) -> bool:
    """Whether `user` has reacted to `message` with `name`."""
    return user in message.reactions.get(name, [])


class ReactionsWorkspace(Workspace):
    """A `Workspace` whose messages people and the bot react to."""

    # -- what people do (the sandbox page acts for them) ---------------------------------

    def react_as(
        self, user_id: str, channel_id: str, ts: str, name: str, *, added: bool
    ) -> Message:
        """`user_id` adds (or takes back) the reaction `name` on the message at `ts`.

        Slack's errors as the Web API gives them: `already_reacted`, `no_reaction`,
        `message_not_found`, `channel_not_found`, `invalid_name`."""
        with self._lock:
            channel = self.channels.get(channel_id)
            if channel is None or user_id not in self.users:
                raise SlackError("channel_not_found")
            if channel.is_private and user_id not in channel.members:
                raise SlackError("channel_not_found")
            message = self._message(channel, ts)
            self._react(message, user_id, name, added=added)
            self.touch()
            return message

    # -- Web API methods (called under the lock) -----------------------------------------

    def _reactions_add(self, params: Json) -> Json:
        self._react(self._reacted_to(params), BOT_USER_ID, _name(params), added=True)
        self.touch()
        return {}

    def _reactions_remove(self, params: Json) -> Json:
        self._react(self._reacted_to(params), BOT_USER_ID, _name(params), added=False)
        self.touch()
        return {}

    def _reactions_get(self, params: Json) -> Json:
        message = self._reacted_to(params)  # `full`: every user is listed, always
        return {"type": "message", "channel": message.channel, "message": message.as_json()}

    # -- helpers (called under the lock) -------------------------------------------------

    def _reacted_to(self, params: Json) -> Message:
        """The message `channel` + `timestamp` name, checked as Slack checks them."""
        if not params.get("timestamp"):
            raise SlackError("no_item_specified")
        channel = self._visible(params)
        ts = str(params["timestamp"])
        seconds, dot, fraction = ts.partition(".")
        if not (seconds.isdigit() and dot and fraction.isdigit()):
            raise SlackError("bad_timestamp")
        return self._message(channel, ts)

    def _react(self, message: Message, user: str, name: str, *, added: bool) -> None:
        if not _NAME.fullmatch(name):
            raise SlackError("invalid_name")
        users = message.reactions.get(name, [])
        if added:
            if user in users:
                raise SlackError("already_reacted")
            if not users and len(message.reactions) >= MAX_REACTIONS:
                raise SlackError("too_many_emoji")
            message.reactions[name] = [*users, user]
            return
        if user not in users:
            raise SlackError("no_reaction")
        rest = [u for u in users if u != user]
        if rest:
            message.reactions[name] = rest
        else:
            del message.reactions[name]


def _name(params: Json) -> str:
    name = str(params.get("name") or "").strip(":")
    if not name:
        raise SlackError("invalid_name")
    return name
