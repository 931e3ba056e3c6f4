"""What the sandbox page does for the person using it, in Slack's place.

The page shows a `FakeSlack` workspace and acts in it as one of the config's people.
Whatever Slack would send firebell, this sends the way Slack does: a real signed HTTP
request to firebell's `/slack/events` (`bot.sandbox.signed`). What Slack shows a
person (their channels, unread counts, answers only they see, the modal firebell
opened for them) is read from the workspace and rendered here, escaped, as HTML.

The methods block (they wait for firebell's answer): the page's routes call them in a
thread.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.config.model import Config
from bot.sandbox.drill import Drill
from bot.sandbox.emoji import emoji
from bot.sandbox.fake import BOT_USER_ID, Channel, FakeSlack, Message, View
from bot.sandbox.interactions import (
    SandboxError,
    blocks_of,
    element_action,
    find_element,
    state_values,
)
from bot.sandbox.model import Json
from bot.sandbox.mrkdwn import NameTable
from bot.sandbox.people import Person, sandbox_people
from bot.sandbox.reactions import reacted
from bot.sandbox.render import render_blocks
from bot.sandbox.render_view import render_view, view_close_label, view_submit_label, view_title
from bot.sandbox.signed import SlackRequests

GENERAL = "C0GENERAL"
_INCIDENT_ID = re.compile(r"\bINC-\d+\b")


class Session:
    """The sandbox page's side of the workspace: one per `firebell serve --sandbox`."""

    def __init__(
        self,
        fake: FakeSlack,
        config: Config,
        *,
        app_url: str,
        signing_secret: str,
        drill: Drill | None = None,
    ) -> None:
        self.fake = fake
        self.config = config
        self.drill = drill
        self.drill_incident: str | None = None
        self.requests = SlackRequests(
            app_url, signing_secret, fake=fake, client=httpx.Client(timeout=15.0)
        )
        self._read: dict[tuple[str, str], str] = {}  # (user, channel) -> newest ts seen

    def close(self) -> None:
        """Close the connection pool to firebell."""
        self.requests.close()

    # -- reading -------------------------------------------------------------------------

    def people(self) -> list[Person]:
        """Everyone to act as, with what the config makes of them now."""
        return sandbox_people(self.config, datetime.now(UTC))

    def default_user(self) -> str:
        """Whom the page acts as until someone is picked: the first area's lead."""
        lead = next(iter(self.config.areas.values())).accountable
        return lead if lead in self.fake.users else self.people()[0].id

    def state(self, user: str | None) -> Json:
        """What `user` (else `default_user`) sees around the messages: people,
        channels, DMs, the modal open for them."""
        user = user or self.default_user()
        self._known(user)
        with self.fake.lock:
            channels = [c for c in self.fake.channels.values() if _listed(c, user)]
            listed = [
                {
                    "id": c.id,
                    "name": c.name,
                    "unread": self._unread(user, c),
                    "is_member": user in c.members,
                }
                for c in sorted(channels, key=lambda c: (user not in c.members, c.name))
                if not c.is_im
            ]
            dms = [
                {"id": c.id, "name": "firebell", "unread": self._unread(user, c)}
                for c in channels
                if c.is_im
            ]
            view = self._open_view(user)
            version = self.fake.version
        return {
            "me": user,
            "workspace": "firebell sandbox",
            "people": [vars(p) for p in self.people()],
            "channels": listed,
            "dms": dms,
            "view": self._view_json(view) if view else None,
            "drill": self._drill_json(),
            "version": version,
        }

    def channel(self, user: str, channel_id: str) -> Json:
        """A channel as `user` sees it, with its messages as HTML; marks it read."""
        self._known(user)
        with self.fake.lock:
            channel = self.fake.channels.get(channel_id)
            if channel is None or not _listed(channel, user):
                raise SandboxError(f"no channel {channel_id} that you can see")
            names = self._names(user)
            messages = [m for m in self.fake.messages if m.channel == channel_id and not m.deleted]
            pins = {ts for cid, ts in self.fake.pins if cid == channel_id}
            ephemerals = [
                (e.ts, e.text, e.blocks)
                for e in self.fake.ephemerals
                if e.user == user and e.channel == channel_id
            ]
            ephemerals += [
                (f"{r.at:.6f}", str(r.body.get("text") or ""), blocks_of(r.body.get("blocks")))
                for r in self.fake.responses
                if r.user == user and r.channel == channel_id
            ]
            if messages:
                self._read[(user, channel_id)] = messages[-1].ts
            title = "firebell" if channel.is_im else channel.name
            topic = channel.topic
        return {
            "id": channel_id,
            "name": title,
            "topic": topic,
            "kind": "im" if channel.is_im else "channel",
            "messages": [_message_json(m, names, pinned=m.ts in pins, me=user) for m in messages],
            "ephemerals": [
                {
                    "ts": ts,
                    "author": "firebell",
                    "time": _clock(ts),
                    "html": render_blocks(blocks, names, fallback_text=text),
                }
                for ts, text, blocks in sorted(ephemerals, key=lambda e: float(e[0]))
            ],
        }

    # -- acting --------------------------------------------------------------------------

    def say(self, user: str, channel_id: str, text: str) -> Json:
        """`user` types `text` in a channel: a slash command goes to firebell, signed."""
        self._known(user)
        text = text.strip()
        if not text:
            raise SandboxError("type a message, or a command such as /incident help")
        if not text.startswith("/"):
            self._slack(lambda: self.fake.post_as(user, channel_id, text))
            return {"ok": True}
        command, _, rest = text.partition(" ")
        if command != "/incident":
            raise SandboxError(f"{command} is not a command here: firebell's is /incident")
        self._visible(user, channel_id)
        answer = self.requests.command(rest.strip(), user_id=user, channel_id=channel_id)
        self._show_answer(user, channel_id, answer)
        return {"ok": True}

    def act(self, user: str, body: Json) -> Json:
        """`user` clicks a button, picks an option or ticks a box on a message."""
        self._known(user)
        channel_id, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
        action_id, block_id = str(body.get("action_id") or ""), str(body.get("block_id") or "")
        kind = str(body.get("type") or "button")
        self._visible(user, channel_id)
        element = element_action(kind, self._element(channel_id, ts, action_id), body)
        answer = self.requests.block_action(
            action_id,
            None if element else str(body.get("value") or "") or None,
            user_id=user,
            channel_id=channel_id,
            message_ts=ts or None,
            block_id=block_id or "b",
            element=element,
        )
        self._show_answer(user, channel_id, answer)
        return {"ok": True}

    def react(self, user: str, channel_id: str, ts: str, name: str) -> Json:
        """`user` toggles the reaction `name` on the message at `ts`: added if they had
        not reacted so, else taken back; firebell gets the event Slack would send."""
        self._known(user)
        self._visible(user, channel_id)
        with self.fake.lock:
            message = next(
                (m for m in self.fake.messages if m.channel == channel_id and m.ts == ts), None
            )
            if message is None or message.deleted:
                raise SandboxError("that message is not there any more")
            added = not reacted(message, user, name)
            self._slack(lambda: self.fake.react_as(user, channel_id, ts, name, added=added))
        answer = self.requests.reaction(
            name, user_id=user, channel_id=channel_id, ts=ts, added=added
        )
        if answer.status_code != 200:
            raise SandboxError(f"firebell answered {answer.status_code}: {answer.text[:200]}")
        return {"ok": True, "added": added}

    def submit(self, user: str, view_id: str, values: Json) -> Json:
        """`user` submits the modal `view_id`: firebell either closes it or says what
        is wrong with which input (`response_action: errors`)."""
        view = self._users_view(user, view_id)
        state = state_values(view.view, values)
        answer = self.requests.view_submission(
            view.callback_id, state, user_id=user, view_id=view_id
        )
        if answer.status_code != 200:
            raise SandboxError(f"firebell answered {answer.status_code}: {answer.text[:200]}")
        reply: Json = answer.json() if answer.content.strip() else {}
        action = reply.get("response_action")
        with self.fake.lock:
            view.errors = {}
            if action == "errors":
                view.errors = {str(k): str(v) for k, v in (reply.get("errors") or {}).items()}
                view.values = state
            elif action in ("update", "push") and isinstance(reply.get("view"), dict):
                view.view = reply["view"]
            else:
                view.closed = True
            self.fake.touch()
        if action == "errors":
            return {"ok": True, "closed": False, "errors": view.errors}
        return {"ok": True, "closed": view.closed}

    def dismiss(self, user: str, view_id: str) -> Json:
        """`user` closes the modal without submitting it."""
        view = self._users_view(user, view_id)
        with self.fake.lock:
            view.closed = True
            self.fake.touch()
        return {"ok": True}

    def start_drill(self) -> None:
        """Declare the drill's incident, as the accountable lead of the first area."""
        if self.drill is None:
            return
        area_key, area = next(iter(self.config.areas.items()))
        service = next((k for k, s in self.config.services.items() if s.area == area_key), None)
        where = f"service:{service}" if service else f"area:{area_key}"
        policy = self.config.severities[self.drill.severity]
        text = f"declare {self.drill.severity} Drill: rehearsing a {policy.name.lower()} {where}"
        answer = self.requests.command(text, user_id=area.accountable, channel_id=GENERAL)
        self._show_answer(area.accountable, GENERAL, answer)
        found = _INCIDENT_ID.search(answer.text)
        with self.fake.lock:
            self.drill_incident = found.group(0) if found else None
            self.fake.touch()

    # -- helpers -------------------------------------------------------------------------

    def _known(self, user: str) -> None:
        if user not in self.fake.users or user == BOT_USER_ID:
            raise SandboxError(f"nobody called {user} in this workspace: pick someone")

    def _visible(self, user: str, channel_id: str) -> Channel:
        channel = self.fake.channels.get(channel_id)
        if channel is None or not _listed(channel, user):
            raise SandboxError(f"no channel {channel_id} that you can see")
        return channel

    def _slack(self, act: Any) -> Any:
        try:
            return act()
        except Exception as err:
            code = getattr(err, "code", None)
            if code is None:
                raise
            raise SandboxError(f"Slack refused that: {code}") from None

    def _show_answer(self, user: str, channel_id: str, answer: httpx.Response) -> None:
        """A command's or click's immediate answer, shown as Slack shows it: to you."""
        if answer.status_code != 200:
            raise SandboxError(f"firebell answered {answer.status_code}: {answer.text[:200]}")
        body = answer.text.strip()
        if not body:
            return
        try:
            reply = json.loads(body)
        except ValueError:
            reply = {"text": body}
        if not isinstance(reply, dict):
            return
        text, blocks = str(reply.get("text") or ""), blocks_of(reply.get("blocks"))
        if text or blocks:
            self.fake.show_ephemeral(user, channel_id, text, blocks)

    def _unread(self, user: str, channel: Channel) -> int:
        if user not in channel.members:
            return 0
        seen = float(self._read.get((user, channel.id), "0"))
        return sum(
            1
            for m in self.fake.messages
            if m.channel == channel.id and not m.deleted and m.user != user and float(m.ts) > seen
        )

    def _open_view(self, user: str) -> View | None:
        mine = [v for v in self.fake.views.values() if v.user == user and not v.closed]
        return mine[-1] if mine else None

    def _users_view(self, user: str, view_id: str) -> View:
        self._known(user)
        with self.fake.lock:
            view = self.fake.views.get(view_id)
            if view is None or view.user != user or view.closed:
                raise SandboxError("that form is no longer open")
            return view

    def _view_json(self, view: View) -> Json:
        names = self._names(view.user or self.default_user())
        return {
            "id": view.id,
            "title": view_title(view.view),
            "submit": view_submit_label(view.view),
            "close": view_close_label(view.view),
            "html": render_view(view.view, names, errors=view.errors, values=view.values),
            "errors": view.errors,
        }

    def _drill_json(self) -> Json | None:
        if self.drill is None:
            return None
        return {
            "severity": self.drill.severity,
            "speed": self.drill.speed,
            "started_at": self.drill.started_at,
            "incident": self.drill_incident,
        }

    def _element(self, channel_id: str, ts: str, action_id: str) -> Json | None:
        """The element `action_id` of the message at `ts`, as firebell posted it."""
        for message in self.fake.messages_in(channel_id):
            if message.ts == ts:
                return find_element(message.blocks, action_id)
        return None

    def _names(self, user: str) -> NameTable:
        """Names as `user` sees them: as in Slack, a link to a private channel they are
        not in shows no name."""
        handles = {team.usergroup: key for key, team in self.config.teams.items() if team.usergroup}
        return NameTable(
            users={u.id: u.real_name or u.name for u in self.fake.users.values()},
            channels={
                c.id: c.name if _listed(c, user) else "private-channel"
                for c in self.fake.channels.values()
                if c.name
            },
            usergroups={g: handles.get(g, g) for g in self.fake.usergroups},
        )


def _listed(channel: Channel, user: str) -> bool:
    """Whether `user` sees `channel` in the sidebar: theirs, or public to join."""
    if channel.is_im:
        return channel.user == user
    return user in channel.members or not (channel.is_private or channel.is_mpim)


def _message_json(message: Message, names: NameTable, *, pinned: bool, me: str) -> Json:
    reactions = [
        {
            "name": name,
            "emoji": emoji(name) or f":{name}:",
            "count": len(users),
            "mine": me in users,
        }
        for name, users in message.reactions.items()
        if users
    ]
    return {
        "ts": message.ts,
        "author": names.user(message.user),
        "author_id": message.user,
        "time": _clock(message.ts),
        "html": render_blocks(message.blocks, names, fallback_text=message.text),
        "edited": bool(message.edits),
        "pinned": pinned,
        "reactions": reactions,
    }


def _clock(ts: str) -> str:
    return time.strftime("%H:%M", time.localtime(float(ts)))
