"""The Slack Web API's semantics over in-memory state, without HTTP.

Each method takes the request's arguments and returns the ``ok`` answer's fields, or
raises ``SlackError`` with Slack's error code. ``FakeSlack`` serves this over HTTP.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from bot.sandbox.blockkit import (
    validate_view,
)
from bot.sandbox.model import (
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
    View,
    new_view_hash,
)
from bot.sandbox.reactions import ReactionsWorkspace
from bot.sandbox.workspace import flag, json_field

MAX_TOPIC = 250
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")


class SlackWebApi(ReactionsWorkspace):
    """The Web API methods firebell uses, over a `Workspace`."""

    def __init__(self) -> None:
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
            "conversations.replies": self._conversations_replies,
            "conversations.setPurpose": lambda p: self._set_topic(p, "purpose"),
            "conversations.setTopic": lambda p: self._set_topic(p, "topic"),
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "pins.add": self._pins_add,
            "reactions.add": self._reactions_add,
            "reactions.get": self._reactions_get,
            "reactions.remove": self._reactions_remove,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
        }
        super().__init__()

    def call(self, method: str, params: Json) -> Json:
        """The ``ok`` answer of ``method``; raises SlackError for Slack's errors."""
        handler = self._methods.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        with self._lock:
            return {"ok": True, **handler(params)}

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
            is_private=flag(params.get("is_private")),
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
        inclusive = flag(params.get("inclusive"))
        with_metadata = flag(params.get("include_all_metadata"))

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

    def _conversations_replies(self, params: Json) -> Json:
        channel = self._visible(params)
        if not channel.is_im and BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        try:
            found = self._message(channel, params.get("ts"))
        except SlackError as err:
            raise SlackError("thread_not_found") from err
        root = found.thread_ts or found.ts
        try:
            oldest = float(params.get("oldest") or 0)
            latest = float(params.get("latest") or "inf")
        except ValueError as err:
            raise SlackError("invalid_ts_oldest") from err
        inclusive = flag(params.get("inclusive"))

        def in_range(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        # As Slack: the thread's parent first, always, then its replies in range.
        thread = [
            m.as_json(with_metadata=flag(params.get("include_all_metadata")))
            for m in self.messages
            if m.channel == channel.id
            and not m.deleted
            and (m.ts == root or (m.thread_ts == root and in_range(float(m.ts))))
        ]
        page, cursor = self._page(thread, params)
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
        shown = channel.as_json() if flag(params.get("return_im")) else {"id": channel.id}
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
        self._check_rate(channel.id)
        message = Message(
            channel.id,
            self._next_ts(),
            text,
            blocks or [],
            BOT_USER_ID,
            thread_ts=str(params["thread_ts"]) if params.get("thread_ts") else None,
            attachments=json_field(params.get("attachments"), []),
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

    def _chat_get_permalink(self, params: Json) -> Json:
        channel = self._visible(params)
        message = self._message(channel, params.get("message_ts"))
        digits = message.ts.replace(".", "")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{digits}"
        if message.thread_ts and message.thread_ts != message.ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

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
            view = json_field(params.get("view"), None)
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
