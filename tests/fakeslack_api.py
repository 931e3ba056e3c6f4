"""The Slack Web API's semantics over in-memory state, without HTTP.

Each method takes the request's arguments and returns the ``ok`` answer's fields, or
raises ``SlackError`` with Slack's error code. ``FakeSlack`` serves this over HTTP.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.fakeslack_blocks import (
    MAX_MESSAGE_BLOCKS,
    validate_blocks,
    validate_view,
    with_block_ids,
)
from tests.fakeslack_model import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    Edit,
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
    new_view_hash,
)

MAX_TEXT = 40_000
MAX_TOPIC = 250
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
_ID_CHARS = string.ascii_uppercase + string.digits


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


def _json_field(value: Any, default: Any) -> Any:
    """Slack accepts structured arguments as JSON text (forms) or as JSON values."""
    if value is None or value == "":
        return default
    return json.loads(value) if isinstance(value, str) else value


class SlackWebApi:
    """Users, channels, messages, pins and views, changed only through Web API methods."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._methods: dict[str, Callable[[Json], Json]] = {
            "api.test": lambda p: {"args": p},
            "auth.test": self._auth_test,
            "conversations.create": self._conversations_create,
            "conversations.history": self._conversations_history,
            "conversations.info": lambda p: {"channel": self._visible(p).as_json()},
            "conversations.invite": self._conversations_invite,
            "conversations.join": self._conversations_join,
            "conversations.list": self._conversations_list,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.setPurpose": lambda p: self._set_topic(p, "purpose"),
            "conversations.setTopic": lambda p: self._set_topic(p, "topic"),
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "pins.add": self._pins_add,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
        }
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
            self.enforce_rate_limit = False
            self.rate_limit_burst = 4
            self.require_membership = False
            self._triggers: dict[str, Trigger] = {}
            self._posted_at: dict[str, list[float]] = {}
            self._last_ts = 0
            self._next_id = 0

    def call(self, method: str, params: Json) -> Json:
        """The ``ok`` answer of ``method``; raises SlackError for Slack's errors."""
        handler = self._methods.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        with self._lock:
            return {"ok": True, **handler(params)}

    # -- test set-up ---------------------------------------------------------------------

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
            blocks = _json_field(params.get("blocks"), None)
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
            metadata = _json_field(params.get("metadata"), None)
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

    def _check_rate(self, channel_id: str) -> list[float]:
        now = time.monotonic()
        recent = [t for t in self._posted_at.get(channel_id, []) if now - t < 1.0]
        if self.enforce_rate_limit and len(recent) >= self.rate_limit_burst:
            raise SlackError("ratelimited", status=429, headers={"Retry-After": "1"})
        return [*recent, now]

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

    # -- Web API methods (called under the lock) -----------------------------------------

    def _auth_test(self, params: Json) -> Json:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Firebell Test",
            "user": self.users[BOT_USER_ID].name,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _conversations_create(self, params: Json) -> Json:
        name = str(params.get("name") or "")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _CHANNEL_NAME.fullmatch(name):
            raise SlackError("invalid_name_specials")
        if not re.search(r"[a-z0-9]", name):
            raise SlackError("invalid_name_punctuation")
        if any(c.name == name for c in self.channels.values()):
            raise SlackError("name_taken")
        channel = Channel(
            self._new_id("C"),
            name,
            BOT_USER_ID,
            {BOT_USER_ID},
            is_private=_flag(params.get("is_private")),
            created=int(time.time()),
        )
        self.channels[channel.id] = channel
        return {"channel": channel.as_json()}

    def _conversations_history(self, params: Json) -> Json:
        channel = self._visible(params)
        if not channel.is_im and BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")  # as Slack: a public channel it has not joined
        try:
            oldest = float(params.get("oldest") or 0)
            latest = float(params.get("latest") or "inf")
        except ValueError as err:
            raise SlackError("invalid_ts_oldest") from err
        inclusive = _flag(params.get("inclusive"))
        with_metadata = _flag(params.get("include_all_metadata"))

        def in_range(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        newest_first = [
            m.as_json(with_metadata=with_metadata)
            for m in reversed(self.messages)
            if m.channel == channel.id
            and not m.deleted
            and m.thread_ts in (None, m.ts)
            and in_range(float(m.ts))
        ]
        page, cursor = self._page(newest_first, params)
        return {
            "messages": page,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_invite(self, params: Json) -> Json:
        channel = self._visible(params)
        if channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        ids = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not ids:
            raise SlackError("no_user")
        if len(ids) > 1000:
            raise SlackError("too_many_users")
        if BOT_USER_ID in ids:
            raise SlackError("cant_invite_self")
        unknown = [u for u in ids if u not in self.users]
        if unknown:
            raise SlackError(
                "user_not_found",
                errors=[{"user": u, "ok": False, "error": "user_not_found"} for u in unknown],
            )
        if all(u in channel.members for u in ids):
            raise SlackError(
                "already_in_channel",
                errors=[{"user": u, "ok": False, "error": "already_in_channel"} for u in ids],
            )
        channel.members.update(ids)
        return {"channel": channel.as_json()}

    def _conversations_join(self, params: Json) -> Json:
        channel = self._visible(params)
        if channel.is_private:
            raise SlackError("method_not_supported_for_channel_type")
        result: Json = {}
        if BOT_USER_ID in channel.members:
            result = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        channel.members.add(BOT_USER_ID)
        return {"channel": channel.as_json(), **result}

    def _conversations_list(self, params: Json) -> Json:
        types = set(str(params.get("types") or "public_channel").split(","))
        if not types <= {"public_channel", "private_channel", "mpim", "im"}:
            raise SlackError("invalid_types")
        listed = [
            c.as_json()
            for c in self.channels.values()
            if c.kind in types and (not c.is_private or BOT_USER_ID in c.members)
        ]
        page, cursor = self._page(listed, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_members(self, params: Json) -> Json:
        page, cursor = self._page(sorted(self._visible(params).members), params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            channel = self._visible(params)
            return {"channel": channel.as_json(), "no_op": True, "already_open": True}
        ids = sorted({u.strip() for u in str(params.get("users") or "").split(",") if u.strip()})
        if not ids:
            raise SlackError("users_list_not_supplied")
        if any(u not in self.users for u in ids):
            raise SlackError("user_not_found")
        if len(ids) > 8:
            raise SlackError("too_many_users")
        if len(ids) == 1:
            existed = any(c.is_im and c.user == ids[0] for c in self.channels.values())
            channel = self._im_with(ids[0])
        else:
            existed = any(
                c.is_mpim and c.members == {*ids, BOT_USER_ID} for c in self.channels.values()
            )
            channel = self._mpim_with(ids)
        shown = channel.as_json() if _flag(params.get("return_im")) else {"id": channel.id}
        extra = {"no_op": True, "already_open": True} if existed else {}
        return {"channel": shown, **extra}

    def _set_topic(self, params: Json, what: str) -> Json:
        channel = self._visible(params)
        if BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        value = str(params.get(what) or "")
        if len(value) > MAX_TOPIC:
            raise SlackError("too_long")
        setattr(channel, what, value)
        return {"channel": channel.as_json()}

    def _chat_post_message(self, params: Json) -> Json:
        channel = self._postable(params)
        text, blocks = self._content(params)
        self._posted_at[channel.id] = self._check_rate(channel.id)
        message = Message(
            channel.id,
            self._next_ts(),
            text,
            blocks or [],
            BOT_USER_ID,
            thread_ts=str(params["thread_ts"]) if params.get("thread_ts") else None,
            attachments=_json_field(params.get("attachments"), []),
            metadata=self._metadata(params),
        )
        self.messages.append(message)
        return {"channel": channel.id, "ts": message.ts, "message": message.as_json()}

    def _chat_update(self, params: Json) -> Json:
        channel = self._visible(params)
        message = self._message(channel, params.get("ts"))
        if message.user != BOT_USER_ID:
            raise SlackError("cant_update_message")
        text, blocks = self._content(params)
        message.edits.append(Edit(message.text, message.blocks, time.time()))
        message.text = text or message.text
        message.blocks = message.blocks if blocks is None else blocks
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_json(),
        }

    def _chat_post_ephemeral(self, params: Json) -> Json:
        user = str(params.get("user") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        channel = self._postable(params)
        if user not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(params)
        ephemeral = Ephemeral(channel.id, user, self._next_ts(), text, blocks or [])
        self.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _chat_delete(self, params: Json) -> Json:
        channel = self._visible(params)
        message = self._message(channel, params.get("ts"))
        if message.user != BOT_USER_ID:
            raise SlackError("cant_delete_message")
        message.deleted = True
        return {"channel": channel.id, "ts": message.ts}

    def _pins_add(self, params: Json) -> Json:
        channel = self._visible(params)
        if not params.get("timestamp"):
            raise SlackError("no_item_specified")
        message = self._message(channel, params.get("timestamp"))
        if (channel.id, message.ts) in self.pins:
            raise SlackError("already_pinned")
        self.pins.add((channel.id, message.ts))
        return {}

    def _parsed_view(self, params: Json) -> Json:
        try:
            view = _json_field(params.get("view"), None)
        except ValueError as err:
            raise SlackError("invalid_arguments") from err
        errors = validate_view(view)
        if errors:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return dict(view)

    def _views_open(self, params: Json) -> Json:
        trigger = self._triggers.get(str(params.get("trigger_id") or ""))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        view = View(self._new_id("V"), self._parsed_view(params), trigger.user, time.time())
        trigger.used = True
        self.views[view.id] = view
        return {"view": view.as_json()}

    def _views_update(self, params: Json) -> Json:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        found = next(
            (
                v
                for v in self.views.values()
                if v.id == view_id or (external_id and v.view.get("external_id") == external_id)
            ),
            None,
        )
        if found is None:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != found.hash:
            raise SlackError("hash_conflict")
        found.view = self._parsed_view(params)
        found.hash = new_view_hash()
        return {"view": found.as_json()}

    def _users_info(self, params: Json) -> Json:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.as_json()}

    def _usergroups_users_list(self, params: Json) -> Json:
        users = self.usergroups.get(str(params.get("usergroup") or ""))
        if users is None:
            raise SlackError("no_such_subteam")
        return {"users": list(users)}
