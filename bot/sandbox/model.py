"""The fake Slack's workspace state, rendered in the Slack Web API's JSON shapes."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

TEAM_ID = "T0TEST"
TEAM_DOMAIN = "firebell-test"
APP_ID = "A0FIREBELL"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
_CREATED = 1_700_000_000


class SlackError(Exception):
    """A Web API method's ``{"ok": false, "error": code, ...extra}`` answer."""

    def __init__(
        self, code: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.extra = extra


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    deleted: bool = False

    def as_json(self) -> Json:
        real_name = self.real_name or self.name
        profile: Json = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": TEAM_ID,
        }
        if self.is_bot:
            profile["bot_id"] = BOT_ID
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": real_name,
            "tz": "Etc/UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": _CREATED,
        }


@dataclass
class Channel:
    id: str
    name: str
    creator: str
    members: set[str] = field(default_factory=set)
    is_private: bool = False
    is_im: bool = False
    topic: str = ""
    purpose: str = ""
    created: int = _CREATED
    user: str | None = None  # the other party of an IM
    is_mpim: bool = False

    @property
    def kind(self) -> str:
        """The ``types`` value of conversations.list that selects this conversation."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "private_channel" if self.is_private else "public_channel"

    def as_json(self) -> Json:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_mpim,
            "is_group": self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": False,
            "is_general": self.name == "general",
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": TEAM_ID,
            "is_member": BOT_USER_ID in self.members,
            "num_members": len(self.members),
            "topic": {
                "value": self.topic,
                "creator": BOT_USER_ID if self.topic else "",
                "last_set": self.created if self.topic else 0,
            },
            "purpose": {
                "value": self.purpose,
                "creator": BOT_USER_ID if self.purpose else "",
                "last_set": self.created if self.purpose else 0,
            },
            "previous_names": [],
        }


@dataclass
class Edit:
    """A message's text and blocks before one chat.update."""

    text: str
    blocks: list[Json]
    at: float


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Json]
    user: str
    thread_ts: str | None = None
    edits: list[Edit] = field(default_factory=list)  # earlier versions, oldest first
    attachments: list[Json] = field(default_factory=list)
    deleted: bool = False
    metadata: Json | None = None  # {"event_type": ..., "event_payload": {...}}
    reactions: dict[str, list[str]] = field(default_factory=dict)  # name -> users, in order

    def reactions_json(self) -> list[Json]:
        """The message's reactions as Slack lists them: in the order first added."""
        return [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in self.reactions.items()
            if users
        ]

    def as_json(self, *, with_metadata: bool = False) -> Json:
        shown: Json = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": TEAM_ID,
        }
        if self.user == BOT_USER_ID:
            shown.update(subtype="bot_message", bot_id=BOT_ID, app_id=APP_ID)
        if self.blocks:
            shown["blocks"] = self.blocks
        if self.attachments:
            shown["attachments"] = self.attachments
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if self.reactions_json():
            shown["reactions"] = self.reactions_json()
        if self.edits:
            shown["edited"] = {"user": self.user, "ts": f"{self.edits[-1].at:.6f}"}
        if with_metadata and self.metadata is not None:
            shown["metadata"] = self.metadata
        return shown


@dataclass
class Ephemeral:
    """A chat.postEphemeral message, seen by ``user`` only."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[Json]


def new_view_hash() -> str:
    """A view's ``hash``, which changes with every update."""
    return f"{int(time.time())}.{secrets.token_hex(4)}"


@dataclass
class View:
    """A modal opened with views.open (``view`` is what the bot sent)."""

    id: str
    view: Json
    user: str | None
    opened_at: float
    hash: str = field(default_factory=new_view_hash)
    closed: bool = False  # submitted or dismissed in the sandbox page
    errors: dict[str, str] = field(default_factory=dict)  # the last response_action: errors
    values: Json | None = None  # what was submitted with those errors, shown again

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    def as_json(self, state_values: Json | None = None) -> Json:
        view = self.view
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": self.callback_id,
            "state": {"values": state_values or {}},
            "hash": self.hash,
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": self.id,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }


@dataclass
class Call:
    """One request received: API method (or ``response_url``), arguments, HTTP status."""

    method: str
    params: Json
    at: float
    status: int = 200  # 0: the connection was dropped unanswered
    response: Json = field(default_factory=dict)  # {} when the answer was not JSON
    fault: str = ""  # the fault injected into it ("503", "effect+timeout" ...), if any


@dataclass
class ResponsePost:
    """A message posted to a response URL (``id`` is the URL's last path segment)."""

    id: str
    body: Json
    at: float
    user: str | None = None  # who the URL was handed to, and where (when known)
    channel: str | None = None

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")


@dataclass
class Trigger:
    """A trigger_id handed out with a command or click; views.open may use it once."""

    issued_at: float  # time.monotonic()
    user: str | None
    used: bool = False


# The workspace of SPEC.md's example config, so that e2e tests can use it unchanged.
_PEOPLE = {
    "U01ML1": "ml-one",
    "U01ML2": "ml-two",
    "U01PL1": "platform-one",
    "U01DA1": "data-one",
    "U01PR1": "product-one",
    "U01LE1": "legal-one",
    "U01MLLEAD": "ml-lead",
    "U01PLLEAD": "platform-lead",
    "U01DALEAD": "data-lead",
    "U01PRLEAD": "product-lead",
    "U01LELEAD": "legal-lead",
}
_CHANNELS = {
    "C0GENERAL": "general",
    "C0ANNOUNCE": "incidents",
    "C0BACKLOG": "incident-backlog",
    "C0PRODUCT": "product",
}


def initial_users() -> list[User]:
    bot = User(BOT_USER_ID, "firebell", "Firebell", is_bot=True)
    return [bot, *(User(uid, name) for uid, name in _PEOPLE.items())]


def initial_channels() -> list[Channel]:
    """The workspace's channels, with everyone in them but the bot (it posts with
    `chat:write.public`, and must join to read their history)."""
    return [Channel(cid, name, "U01MLLEAD", set(_PEOPLE)) for cid, name in _CHANNELS.items()]


def initial_usergroups() -> dict[str, list[str]]:
    return {"S01PLAT": ["U01PL1"]}
