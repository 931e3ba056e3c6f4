"""A Slack workspace in memory: its members, channels, messages, pins and views.

The Web API methods that change it are in `bot.sandbox.webapi`; the rules they share
(message content, metadata, rate limits, paging) are helpers here. Rate limits are
off unless ``rate_limits`` is set (Slack's tiers, scaled: bot/sandbox/ratelimits.py) or
``enforce_rate_limit`` is (posts per channel only, at Slack's speed: the sandbox's).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import time
from typing import Any

from bot.sandbox.blockkit import (
    MAX_MESSAGE_BLOCKS,
    validate_blocks,
    with_block_ids,
)
from bot.sandbox.model import (
    BOT_USER_ID,
    Channel,
    Ephemeral,
    Json,
    Message,
    SlackError,
    Trigger,
    User,
    View,
    initial_channels,
    initial_usergroups,
    initial_users,
)
from bot.sandbox.ratelimits import RateLimiter, RateLimits

MAX_TEXT = 40_000
_ID_CHARS = string.ascii_uppercase + string.digits


def flag(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


def json_field(value: Any, default: Any) -> Any:
    """Slack accepts structured arguments as JSON text (forms) or as JSON values."""
    if value is None or value == "":
        return default
    return json.loads(value) if isinstance(value, str) else value


class Workspace:
    """Users, channels, messages, pins and views: the state the Web API methods change.

    Set-up methods (``add_user``, ``add_channel`` ...) are for seeding a workspace; the
    helpers check arguments the way Slack does and are called under the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the initial workspace, with Slack's rules at their defaults."""
        with self._lock:
            self.users: dict[str, User] = {u.id: u for u in initial_users()}
            self.channels: dict[str, Channel] = {c.id: c for c in initial_channels()}
            self.usergroups: dict[str, list[str]] = initial_usergroups()
            self.messages: list[Message] = []
            self.ephemerals: list[Ephemeral] = []
            self.pins: set[tuple[str, str]] = set()
            self.views: dict[str, View] = {}
            self.trigger_ttl = 3.0
            self.rate_limits: RateLimits | None = None
            self.enforce_rate_limit = False
            self.rate_limit_burst = 4
            self.require_membership = False
            self._triggers: dict[str, Trigger] = {}
            self._limiter: RateLimiter | None = None
            self._last_ts = 0
            self._next_id = 0
            self.version = 0  # counts changes, so that a page knows when to look again

    @property
    def lock(self) -> threading.RLock:
        """Held while the workspace changes: hold it to read several things at once."""
        return self._lock

    def touch(self) -> None:
        """Note that something may have changed (watchers compare ``version``)."""
        with self._lock:
            self.version += 1

    # -- set-up ---------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, *, real_name: str = "", is_bot: bool = False
    ) -> User:
        """Add (or replace) a workspace member; like every member, they are in #general."""
        with self._lock:
            user = User(user_id, name, real_name or name, is_bot=is_bot)
            self.users[user_id] = user
            for channel in self.channels.values():
                if channel.name == "general":
                    channel.members.add(user_id)
            return user

    def add_channel(
        self,
        name: str,
        *,
        members: set[str] | None = None,
        channel_id: str | None = None,
        is_private: bool = False,
        bot_member: bool = True,
    ) -> Channel:
        """Add a channel with ``members``, and the bot unless ``bot_member`` is False."""
        with self._lock:
            cid = channel_id or self._new_id("C")
            channel = Channel(
                cid,
                name,
                BOT_USER_ID,
                {*({BOT_USER_ID} if bot_member else set()), *(members or set())},
                is_private=is_private,
                created=int(time.time()),
            )
            self.channels[cid] = channel
            return channel

    def add_usergroup(self, group_id: str, users: list[str]) -> None:
        """Add (or replace) a user group (``S...``) and its members."""
        with self._lock:
            self.usergroups[group_id] = list(users)

    # -- what people do (the sandbox page acts for them) ---------------------------------

    def post_as(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """``user_id`` writes ``text`` in a channel (in the thread of ``thread_ts``, if
        given), joining it first if it is public."""
        with self._lock:
            channel = self.channels.get(channel_id)
            if channel is None or user_id not in self.users:
                raise SlackError("channel_not_found")
            if user_id not in channel.members:
                if channel.is_private:
                    raise SlackError("not_in_channel")
                channel.members.add(user_id)
            if not text.strip():
                raise SlackError("no_text")
            if len(text) > MAX_TEXT:
                raise SlackError("msg_too_long")
            message = Message(channel.id, self._next_ts(), text, [], user_id, thread_ts=thread_ts)
            self.messages.append(message)
            self.touch()
            return message

    def show_ephemeral(self, user_id: str, channel_id: str, text: str, blocks: list[Json]) -> None:
        """Show ``user_id`` an answer only they see, as Slack shows a command's reply."""
        with self._lock:
            self.ephemerals.append(Ephemeral(channel_id, user_id, self._next_ts(), text, blocks))
            self.touch()

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """A trigger_id as Slack hands one out with a command or click, valid for 3 s."""
        with self._lock:
            self._next_id += 1
            trigger = f"{self._next_id}.{int(time.time())}.{secrets.token_hex(16)}"
            self._triggers[trigger] = Trigger(time.monotonic(), user_id)
            return trigger

    # -- helpers (called under the lock) -------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        self._next_id += 1
        return f"{prefix}0{self._next_id:04d}{''.join(secrets.choice(_ID_CHARS) for _ in range(4))}"

    def _next_ts(self) -> str:
        micros = max(self._last_ts + 1, int(time.time() * 1_000_000))
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _visible(self, params: Json, key: str = "channel") -> Channel:
        channel = self.channels.get(str(params.get(key) or ""))
        if channel is None or (channel.is_private and BOT_USER_ID not in channel.members):
            raise SlackError("channel_not_found")
        return channel

    def _postable(self, params: Json) -> Channel:
        target = str(params.get("channel") or "")
        if target in self.users:
            return self._im_with(target)
        channel = self._visible(params)
        if self.require_membership and BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def _im_with(self, user_id: str) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and channel.user == user_id:
                return channel
        return self._new_im(user_id)

    def _new_im(self, user_id: str) -> Channel:
        """Open a new IM between the bot and `user_id`."""
        im = Channel(
            self._new_id("D"),
            "",
            BOT_USER_ID,
            {user_id, BOT_USER_ID},
            is_private=True,
            is_im=True,
            created=int(time.time()),
            user=user_id,
        )
        self.channels[im.id] = im
        return im

    def _mpim_with(self, user_ids: list[str]) -> Channel:
        members = {*user_ids, BOT_USER_ID}
        for channel in self.channels.values():
            if channel.is_mpim and channel.members == members:
                return channel
        name = "mpdm-" + "--".join(self.users[u].name for u in user_ids) + "-1"
        mpim = Channel(
            self._new_id("G"),
            name,
            BOT_USER_ID,
            members,
            is_private=True,
            is_mpim=True,
            created=int(time.time()),
        )
        self.channels[mpim.id] = mpim
        return mpim

    def _message(self, channel: Channel, ts: Any) -> Message:
        for message in self.messages:
            if message.channel == channel.id and message.ts == ts and not message.deleted:
                return message
        raise SlackError("message_not_found")

    def _content(self, params: Json) -> tuple[str, list[Json] | None]:
        try:
            blocks = json_field(params.get("blocks"), None)
        except ValueError as err:
            raise SlackError("invalid_blocks_format") from err
        if blocks is not None and not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        text = str(params.get("text") or "")
        if not text and not blocks and not params.get("attachments"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        errors = validate_blocks(blocks or [], max_blocks=MAX_MESSAGE_BLOCKS)
        if errors:
            raise SlackError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return text, None if blocks is None else with_block_ids(blocks)

    def _metadata(self, params: Json) -> Json | None:
        """A post's message metadata, checked as Slack checks it."""
        try:
            metadata = json_field(params.get("metadata"), None)
        except ValueError as err:
            raise SlackError("invalid_metadata_format") from err
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"]
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_schema")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _rate_limiter(self) -> RateLimiter | None:
        """The limiter of the limits in force (fresh windows whenever they change)."""
        limits = self.rate_limits
        if limits is None and self.enforce_rate_limit:
            limits = RateLimits(tiers=False, channel_burst=self.rate_limit_burst)
        if limits is None:
            self._limiter = None
        elif self._limiter is None or self._limiter.limits != limits:
            self._limiter = RateLimiter(limits)
        return self._limiter

    def _check_rate(self, channel_id: str) -> None:
        """Count a post to ``channel_id``; 429 past the channel's limit."""
        limiter = self._rate_limiter()
        if limiter is not None:
            _refuse(limiter.channel_post(channel_id, time.monotonic()))

    def _check_method_rate(self, token: str, method: str) -> None:
        """Count a call to ``method`` with ``token``; 429 past the method's tier."""
        limiter = self._rate_limiter()
        if limiter is not None:
            _refuse(limiter.method_call(token, method, time.monotonic()))

    def _page(self, items: list[Any], params: Json) -> tuple[list[Any], str]:
        try:
            limit = min(int(params.get("limit") or 100), 1000) or 100
            cursor = str(params.get("cursor") or "")
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        except ValueError as err:
            raise SlackError("invalid_cursor") from err
        end = start + limit
        more = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
        return items[start:end], more


def _refuse(retry_after: int | None) -> None:
    """Answer 429 as Slack does, when the limiter says to wait ``retry_after`` seconds."""
    if retry_after is not None:
        raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
