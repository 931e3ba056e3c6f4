"""Signed requests into the bot, in Slack's exact wire formats.

Slash commands are ``application/x-www-form-urlencoded``; interactivity (buttons, modal
submissions) is a form with one ``payload`` field of JSON; events are raw JSON. Each
request carries ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``. Given a
``FakeSlack``, trigger_ids and response URLs come from it, names are looked up in it, and
a button click carries the message the bot actually posted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.sandbox.fake import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, FakeSlack, Message, View

Json = dict[str, Any]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _slack_ts() -> str:
    return f"{time.time():.6f}"


def _button(message: Message, action_id: str) -> tuple[str, Json] | None:
    """The block_id and element of the button ``action_id`` in ``message``, if it has one."""
    for block in message.blocks:
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def event_envelope(event: Json, *, event_id: str | None = None) -> Json:
    """An Events API ``event_callback`` envelope around ``event``, as Slack sends it
    (over HTTP, or as a Socket Mode ``events_api`` payload)."""
    return {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }


def reaction_event(
    name: str, *, user_id: str, channel_id: str, ts: str, added: bool, item_user: str | None
) -> Json:
    """A ``reaction_added`` (or ``reaction_removed``) event on the message at ``ts``."""
    event: Json = {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user_id,
        "reaction": name,
        "item": {"type": "message", "channel": channel_id, "ts": ts},
        "event_ts": _slack_ts(),
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


class SlackRequests:
    """Sends what Slack sends to ``{base_url}/slack/events``, signed with the app's secret."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        fake: FakeSlack | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/slack/events"
        self.signing_secret = signing_secret
        self.fake = fake
        self._client = client or httpx.Client(timeout=10.0)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SlackRequests:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what Slack sends ----------------------------------------------------------------

    def command(
        self,
        text: str,
        *,
        user_id: str = "U01ML1",
        channel_id: str = "C0GENERAL",
        command: str = "/incident",
        trigger_id: str | None = None,
        response_url: str | None = None,
        timestamp: int | str | None = None,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """A slash command, e.g. ``command("declare P1 checkout is down")``."""
        fields = {
            "token": "verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url(user_id, channel_id),
            "trigger_id": trigger_id or self._trigger_id(user_id),
        }
        return self.send(
            urlencode(fields).encode(),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            bad_signature=bad_signature,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def block_action(
        self,
        action_id: str,
        value: str | None,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        block_id: str = "b",
        element: Json | None = None,
        state: Json | None = None,
        timestamp: int | str | None = None,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """A button click on a message.

        With a fake, the message is the newest one in ``channel_id`` (or the one at
        ``message_ts``) carrying a button ``action_id``; its block_id, label and, when
        ``value`` is None, value are taken from that button. For another element (a
        select, checkboxes), ``element`` is the action's fields as Slack sends them
        (``type``, ``selected_option`` ...) and ``state`` the message's input state.
        """
        message, button = self._clicked(channel_id, action_id, message_ts)
        if element is not None:
            action: Json = {
                "action_id": action_id,
                "block_id": block_id,
                "action_ts": _slack_ts(),
                **element,
            }
        else:
            if button is not None:
                block_id = button[0]
                value = button[1].get("value") if value is None else value
            label = button[1]["text"] if button else {"type": "plain_text", "text": action_id}
            action = {
                "action_id": action_id,
                "block_id": block_id,
                "text": {**label, "emoji": True},
                "type": "button",
                "action_ts": _slack_ts(),
            }
            if value is not None:
                action["value"] = value
        payload: Json = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": "verification-token",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": trigger_id or self._trigger_id(user_id),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "message": message,
            "state": {"values": state or {}},
            "response_url": response_url or self._response_url(user_id, channel_id),
            "actions": [action],
        }
        return self._interaction(payload, timestamp, bad_signature, retry_num, retry_reason)

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user_id: str,
        view_id: str | None = None,
        private_metadata: str = "",
        timestamp: int | str | None = None,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """A modal submitted with ``values`` as ``{block_id: {action_id: value}}``.

        A value may be Slack's state object or a plain string (a plain_text_input). With a
        fake, the view is ``view_id`` or else the newest one opened with ``callback_id``.
        """
        state = {
            block: {
                action: {"type": "plain_text_input", "value": v} if isinstance(v, str) else v
                for action, v in actions.items()
            }
            for block, actions in values.items()
        }
        opened = self.fake.views.get(view_id) if self.fake and view_id else None
        opened = opened or self._opened_view(callback_id, user_id)
        if opened is not None:
            view = opened.as_json(state)
            view["private_metadata"] = private_metadata or view["private_metadata"]
        else:
            view = {
                "id": "V0SUBMITTED",
                "team_id": TEAM_ID,
                "type": "modal",
                "blocks": [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": state},
                "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
                "title": {"type": "plain_text", "text": "Firebell"},
                "previous_view_id": None,
                "root_view_id": "V0SUBMITTED",
                "app_id": APP_ID,
                "external_id": "",
                "app_installed_team_id": TEAM_ID,
                "bot_id": "BBOT",
            }
        payload: Json = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": "verification-token",
            "trigger_id": self._trigger_id(user_id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._interaction(payload, timestamp, bad_signature, retry_num, retry_reason)

    def event(
        self,
        event: Json,
        *,
        event_id: str | None = None,
        timestamp: int | str | None = None,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """An Events API ``event_callback`` envelope around ``event``."""
        envelope = event_envelope(event, event_id=event_id)
        return self.send(
            json.dumps(envelope).encode(),
            "application/json",
            timestamp=timestamp,
            bad_signature=bad_signature,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def reaction(
        self,
        name: str,
        *,
        user_id: str,
        channel_id: str,
        ts: str,
        added: bool = True,
        item_user: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """``user_id`` adds (or, with ``added=False``, removes) the reaction ``name`` on
        the message at ``ts``: a ``reaction_added``/``reaction_removed`` event."""
        if item_user is None and self.fake is not None:
            posted = [m for m in self.fake.messages_in(channel_id) if m.ts == ts]
            item_user = posted[0].user if posted else None
        event = reaction_event(
            name, user_id=user_id, channel_id=channel_id, ts=ts, added=added, item_user=item_user
        )
        return self.event(event, event_id=event_id, retry_num=retry_num, retry_reason=retry_reason)

    def url_verification(
        self,
        challenge: str,
        *,
        timestamp: int | str | None = None,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """The handshake Slack sends when the Events API request URL is saved."""
        body = {"token": "verification-token", "challenge": challenge, "type": "url_verification"}
        return self.send(
            json.dumps(body).encode(),
            "application/json",
            timestamp=timestamp,
            bad_signature=bad_signature,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        bad_signature: bool = False,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> httpx.Response:
        """POST ``body`` signed as Slack signs it (or with a wrong secret)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        secret = f"not-{self.signing_secret}" if bad_signature else self.signing_secret
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(secret, ts, body),
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None or retry_num is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return self._client.post(self.url, content=body, headers=headers)

    # -- helpers -------------------------------------------------------------------------

    def _interaction(
        self,
        payload: Json,
        timestamp: int | str | None,
        bad_signature: bool,
        retry_num: int | None,
        retry_reason: str | None,
    ) -> httpx.Response:
        return self.send(
            urlencode({"payload": json.dumps(payload)}).encode(),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            bad_signature=bad_signature,
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def _user(self, user_id: str) -> Json:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}

    def _user_name(self, user_id: str) -> str:
        user = self.fake.users.get(user_id) if self.fake else None
        return user.name if user else user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        channel = self.fake.channels.get(channel_id) if self.fake else None
        return channel.name if channel else channel_id.lower()

    def _response_url(self, user_id: str, channel_id: str | None) -> str:
        if self.fake is not None:
            return self.fake.response_url(user_id=user_id, channel_id=channel_id)
        return f"https://hooks.slack.com/commands/{TEAM_ID}/1/{secrets.token_hex(12)}"

    def _trigger_id(self, user_id: str) -> str:
        if self.fake is not None:
            return self.fake.new_trigger_id(user_id)
        return f"1.{int(time.time())}.{secrets.token_hex(16)}"

    def _clicked(
        self, channel_id: str, action_id: str, message_ts: str | None
    ) -> tuple[Json, tuple[str, Json] | None]:
        """The clicked message as Slack shows it, and the clicked button if it is there."""
        messages = self.fake.messages_in(channel_id) if self.fake else []
        for message in reversed(messages):
            if message_ts in (None, message.ts) and (button := _button(message, action_id)):
                return message.as_json(), button
        for message in messages:
            if message.ts == message_ts:
                return message.as_json(), None
        ts = message_ts or _slack_ts()
        return {"type": "message", "user": BOT_USER_ID, "text": "", "ts": ts, "blocks": []}, None

    def _opened_view(self, callback_id: str, user_id: str) -> View | None:
        opened = self.fake.opened_views(callback_id) if self.fake else []
        mine = [v for v in opened if v.user == user_id]
        candidates = mine or opened
        return candidates[-1] if candidates else None
