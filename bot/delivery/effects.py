"""What each outbox row means in Slack, one method per kind.

Every step is safe to repeat: a row may be delivered twice after a crash (at-least-once),
so each method first checks what Slack already has (a channel id, a message ts) and
reuses it where Slack allows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import httpx
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update
from sqlmodel import Session, col

from bot.config.model import Config
from bot.core.channels import channel_name
from bot.delivery.pacing import ChannelPacer
from bot.delivery.retry import PacedError, PermanentError, TransientError
from bot.delivery.slack_calls import SlackCallError, call
from bot.slack import render
from bot.store.db import Store, db_now
from bot.store.incidents import find_message, get_incident, incident_messages
from bot.store.outbox import enqueue
from bot.store.tables import Incident, IncidentMessage, OutboxMessage

log = logging.getLogger(__name__)
Followup = Callable[[Session], None]  # what a delivery records, in its settling transaction
MAX_PACING_WAIT = 2.0  # seconds a delivery may wait for its channel's pace in place
METADATA_EVENT = "firebell_outbox"  # message metadata naming the outbox row behind a post
CLOCK_SKEW = 10.0  # seconds Slack's clock may run behind the database's
HISTORY_PAGE = 200  # messages per conversations.history call, as Slack advises
MAX_HISTORY_PAGES = 10  # pages read looking for an earlier attempt's post

_HARMLESS_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}
_PER_USER_INVITE_ERRORS = {
    "user_not_found",
    "cant_invite",
    "user_is_restricted",
    "user_is_ultra_restricted",
    "ura_max_channels",
    "user_disabled",
}


class SlackEffects:
    """Delivers outbox rows to Slack."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        store: Store,
        config: Config,
        pacer: ChannelPacer,
        http: httpx.AsyncClient,
    ) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.pacer = pacer
        self.http = http
        self._bot_user: str | None = None
        self._handlers: dict[str, Callable[[Claimed], Awaitable[Followup | None]]] = {
            "open_channel": self._open_channel,
            "invite": self._invite,
            "post_main": self._post_main,
            "pin_main": self._pin_main,
            "channel_post": self._channel_post,
            "post": self._post_to,
            "mirror": self._mirror,
            "page": self._page,
            "notice": self._notice,
            "refresh": self._refresh,
            "respond": self._respond,
        }

    async def deliver(self, claimed: Claimed) -> Followup | None:
        """Send one claimed row.

        Returns what to record about it (a channel id, a message ts), for the worker to
        run in the transaction that settles the row; raises a DeliveryError subclass
        when it did not go out.
        """
        row = claimed.row
        handler = self._handlers.get(row.kind)
        if handler is None:
            raise PermanentError(f"unknown outbox kind {row.kind!r}")
        if row.incident_id is not None and claimed.incident is None:
            raise PermanentError(f"incident #{row.incident_id} does not exist")
        return await handler(claimed)

    async def _call(self, method: str, **params: Any) -> dict[str, Any]:
        await self.store.foreground.wait_turn()
        return await call(self.client, method, **params)

    async def _post(self, claimed: Claimed, channel: str, text: str, **params: Any) -> str:
        """Post `claimed`'s message to `channel` once: an earlier attempt's post is reused."""
        if claimed.earlier_attempt is not None:
            earlier = await self._find_posted(claimed, channel)
            if earlier is not None:
                return earlier
        delay = self.pacer.reserve(channel, holder=claimed.row.id)
        if delay > MAX_PACING_WAIT:
            # A long queue for one channel (an announcements channel in a storm): hand
            # the row back to be tried when its token is due, rather than hold its
            # lease while waiting; the token stays reserved for it.
            self.pacer.hold(channel, delay, holder=claimed.row.id)
            raise PacedError(f"pacing {channel}", delay)
        if delay > 0:
            await asyncio.sleep(delay)
        data = await self._call(
            "chat.postMessage", channel=channel, text=text, metadata=_mark(claimed), **params
        )
        return str(data["ts"])

    async def _find_posted(self, claimed: Claimed, channel: str) -> str | None:
        """The ts of the message an earlier attempt at `claimed` posted, if one did.

        Every post carries its outbox row id as message metadata. An attempt that died
        after Slack took its post, or whose call timed out after Slack had acted, left
        the message in `channel` after the attempt began (less some clock skew); the
        search reads that stretch of history, newest first, up to a bound.
        """
        assert claimed.earlier_attempt is not None  # noqa: S101 - checked by the caller
        oldest = claimed.earlier_attempt.timestamp() - CLOCK_SKEW
        cursor = ""
        for _ in range(MAX_HISTORY_PAGES):
            try:
                data = await self._call(
                    "conversations.history",
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
            except SlackCallError as err:
                # Without the history (a missing scope, say) sending again is the
                # better mistake: a message twice rather than never.
                log.warning("cannot look for an earlier post in %s: %s", channel, err.code)
                return None
            for message in data.get("messages", []):
                if _is_mark(message.get("metadata"), claimed):
                    log.info("outbox row %s was posted already (%s)", claimed.row.id, channel)
                    return str(message["ts"])
            cursor = str(data.get("response_metadata", {}).get("next_cursor") or "")
            if not cursor:
                return None
        log.warning(
            "outbox row %s: no earlier post in the newest %d messages of %s; posting",
            claimed.row.id,
            MAX_HISTORY_PAGES * HISTORY_PAGE,
            channel,
        )
        return None

    async def _post_shown(
        self,
        claimed: Claimed,
        incident: Incident,
        *,
        role: str,
        channel: str,
        text: str,
        blocks: list[Block],
        data: dict[str, Any] | None = None,
    ) -> Followup:
        """Post a message that shows `incident`; return how to remember it for refreshes."""
        ts = await self._post(claimed, channel, text, blocks=blocks)
        return partial(
            _save_message,
            incident_id=_iid(incident),
            role=role,
            channel=channel,
            ts=ts,
            revision=incident.revision,
            data=data or {},
        )

    async def bot_user(self) -> str:
        """The bot's own user ID (cached)."""
        if self._bot_user is None:
            self._bot_user = str((await self._call("auth.test"))["user_id"])
        return self._bot_user

    @staticmethod
    def _channel(incident: Incident | None) -> tuple[Incident, str]:
        if incident is None:
            raise PermanentError("this message needs an incident")
        if incident.channel_id is None:
            raise TransientError(f"{incident.ref} has no channel yet")
        return incident, incident.channel_id

    async def _open_channel(self, claimed: Claimed) -> Followup | None:
        incident = claimed.incident
        if incident is None or incident.channel_id:
            return None
        name = incident.channel_name
        for suffix in range(2, 12):
            try:
                data = await self._call("conversations.create", name=name, is_private=False)
                channel_id = str(data["channel"]["id"])
                break
            except SlackCallError as err:
                if err.code != "name_taken":
                    raise
                reuse = await self._own_channel_named(name)
                if reuse:
                    channel_id = reuse
                    break
                name = channel_name(incident.number, incident.title, suffix=suffix)
        else:
            raise PermanentError(f"no free channel name for {incident.ref}")
        return partial(_set_channel, incident_id=_iid(incident), channel_id=channel_id, name=name)

    async def _own_channel_named(self, name: str) -> str | None:
        """The id of channel `name` if this bot created it (an earlier, interrupted try)."""
        me = await self.bot_user()
        cursor = ""
        for _ in range(50):
            data = await self._call(
                "conversations.list",
                types="public_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for channel in data.get("channels", []):
                if channel.get("name") == name:
                    return str(channel["id"]) if channel.get("creator") == me else None
            cursor = str(data.get("response_metadata", {}).get("next_cursor") or "")
            if not cursor:
                break
        return None

    async def _invite(self, claimed: Claimed) -> None:
        incident, channel = self._channel(claimed.incident)
        me = await self.bot_user()
        users = [u for u in claimed.row.payload.get("users", []) if u != me]
        if not users:
            return
        try:
            await self._call("conversations.invite", channel=channel, users=",".join(users))
        except SlackCallError as err:
            if err.code in _HARMLESS_INVITE_ERRORS:
                return
            if err.code not in _PER_USER_INVITE_ERRORS:
                raise
            # One bad user must not keep the others out: invite them one by one.
            for user in users:
                try:
                    await self._call("conversations.invite", channel=channel, users=user)
                except SlackCallError as one:
                    if one.code not in _HARMLESS_INVITE_ERRORS | _PER_USER_INVITE_ERRORS:
                        raise
                    if one.code in _PER_USER_INVITE_ERRORS:
                        log.warning("could not invite %s to %s: %s", user, incident.ref, one.code)

    async def _post_main(self, claimed: Claimed) -> Followup | None:
        incident, channel = self._channel(claimed.incident)
        if await self.store.run(find_message, incident_id=_iid(incident), role="main"):
            return None
        text, blocks = render.main_message(incident, self.config)
        return await self._post_shown(
            claimed, incident, role="main", channel=channel, text=text, blocks=blocks
        )

    async def _pin_main(self, claimed: Claimed) -> None:
        incident, channel = self._channel(claimed.incident)
        main = await self.store.run(find_message, incident_id=_iid(incident), role="main")
        if main is None:
            raise PermanentError(f"{incident.ref} has no main message to pin")
        try:
            await self._call("pins.add", channel=channel, timestamp=main.ts)
        except SlackCallError as err:
            if err.code != "already_pinned":
                raise

    async def _channel_post(self, claimed: Claimed) -> None:
        _, channel = self._channel(claimed.incident)
        await self._post(claimed, channel, str(claimed.row.payload["text"]))

    async def _post_to(self, claimed: Claimed) -> None:
        payload = claimed.row.payload
        await self._post(claimed, str(payload["channel"]), str(payload["text"]))

    async def _mirror(self, claimed: Claimed) -> None:
        incident, payload = claimed.incident, claimed.row.payload
        if incident is None:
            raise PermanentError("a mirror needs an incident")
        channel, role = str(payload["channel"]), str(payload["role"])
        if await self.store.run(
            find_message, incident_id=_iid(incident), role=role, channel=channel
        ):
            return
        text, blocks = render.main_message(incident, self.config, channel_id=incident.channel_id)
        await self.store.run(
            await self._post_shown(
                claimed, incident, role=role, channel=channel, text=text, blocks=blocks
            )
        )
        # A change may have landed while this was in flight: catch up at once.
        await self._refresh(claimed)

    async def _page(self, claimed: Claimed) -> Followup:
        incident, payload = claimed.incident, claimed.row.payload
        if incident is None:
            raise PermanentError("a page needs an incident")
        user = str(payload["user"])
        data = await self._call("conversations.open", users=user)
        dm = str(data["channel"]["id"])
        details = {k: payload.get(k) for k in ("role", "team", "reason")}
        text, blocks = render.page_message(
            incident,
            self.config,
            role=str(details["role"]),
            team=details["team"],
            reason=str(details["reason"]),
            channel_id=incident.channel_id,
        )
        return await self._post_shown(
            claimed, incident, role="page", channel=dm, text=text, blocks=blocks, data=details
        )

    async def _notice(self, claimed: Claimed) -> None:
        payload = claimed.row.payload
        data = await self._call("conversations.open", users=str(payload["user"]))
        await self._post(claimed, str(data["channel"]["id"]), str(payload["text"]))

    async def _refresh(self, claimed: Claimed) -> None:
        incident = claimed.incident
        if incident is None:
            raise PermanentError("a refresh needs an incident")
        current = await self.store.run(get_incident, incident_id=_iid(incident))
        assert current is not None  # noqa: S101 - incidents are never deleted
        for message in await self.store.run(incident_messages, incident_id=_iid(current)):
            if message.revision >= current.revision:
                continue
            if message.role == "page":
                text, blocks = render.page_message(
                    current,
                    self.config,
                    role=str(message.data.get("role")),
                    team=message.data.get("team"),
                    reason=str(message.data.get("reason")),
                    channel_id=current.channel_id,
                )
            else:
                link = None if message.role == "main" else current.channel_id
                text, blocks = render.main_message(current, self.config, channel_id=link)
            try:
                await self._call(
                    "chat.update", channel=message.channel, ts=message.ts, text=text, blocks=blocks
                )
            except SlackCallError as err:
                if err.code not in ("message_not_found", "cant_update_message"):
                    raise
            await self.store.run(
                _mark_revision, message_id=message.id or 0, revision=current.revision
            )

    async def _respond(self, claimed: Claimed) -> None:
        payload = claimed.row.payload
        await self.store.foreground.wait_turn()
        try:
            response = await self.http.post(
                str(payload["url"]),
                json={
                    "response_type": "ephemeral",
                    "replace_original": False,
                    "text": str(payload["text"]),
                },
            )
        except httpx.HTTPError as err:
            raise TransientError(f"response_url: {type(err).__name__}") from err
        if response.status_code >= 500:
            raise TransientError(f"response_url: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(f"response_url: HTTP {response.status_code}")


@dataclass(frozen=True)
class Claimed:
    """A leased row, with its incident as of the claim (read in the same transaction)
    and when an earlier attempt at it began (None on the first attempt)."""

    row: OutboxMessage
    incident: Incident | None
    earlier_attempt: datetime | None = None


def _mark(claimed: Claimed) -> dict[str, Any]:
    """The message metadata that ties a post to its outbox row."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_row": claimed.row.id}}


def _is_mark(metadata: Any, claimed: Claimed) -> bool:
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("outbox_row") == claimed.row.id


def _set_channel(session: Session, *, incident_id: int, channel_id: str, name: str) -> None:
    result = session.execute(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.channel_id).is_(None))
        .values(channel_id=channel_id, channel_name=name, revision=col(Incident.revision) + 1)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        # Mirrors and pages posted before the channel existed gain their link to it.
        enqueue(
            session,
            kind="refresh",
            lane=f"inc:{incident_id}",
            now=db_now(session),
            incident_id=incident_id,
        )


def _save_message(
    session: Session,
    *,
    incident_id: int,
    role: str,
    channel: str,
    ts: str,
    revision: int,
    data: dict[str, Any],
) -> None:
    message = find_message(session, incident_id=incident_id, role=role, channel=channel)
    if message is None:
        message = IncidentMessage(incident_id=incident_id, role=role, channel=channel, ts=ts)
    message.ts, message.revision, message.data = ts, revision, data
    session.add(message)


def _mark_revision(session: Session, *, message_id: int, revision: int) -> None:
    session.execute(
        update(IncidentMessage)
        .where(col(IncidentMessage.id) == message_id, col(IncidentMessage.revision) < revision)
        .values(revision=revision)
    )


def _iid(incident: Incident) -> int:
    assert incident.id is not None  # noqa: S101 - rows read from the database have ids
    return incident.id
