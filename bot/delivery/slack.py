"""What every effect shares: the claimed row, and a way to call Slack and post once.

Posts have no idempotency key in Slack, so each carries its outbox row id as message
metadata. A post that fails in doubt (5xx, timeout: Slack may have taken it) is
reported as such; an attempt after one that may have posted (its process died, or its
post failed in doubt) first looks in the channel's history since the earliest such
attempt and reuses the post it finds. A history read that fails fails the attempt: it
is retried, never taken as "not posted"; a history the bot may not read ends the row
(`CannotTellError`), rather than risk posting twice. To read a channel's history the
bot must be in it, so it joins the public channels it posts to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import httpx
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.config.model import Config
from bot.delivery.pacing import ChannelPacer
from bot.delivery.retry import (
    MootError,
    PacedError,
    PermanentError,
    PostInDoubtError,
    TimedOutError,
    TransientError,
)
from bot.delivery.slack_calls import SlackCallError, call
from bot.runbooks import Runbook
from bot.store.db import Store
from bot.store.messages import save_message
from bot.store.tables import Incident, IncidentMessage, OutboxMessage, TimelineEntry

log = logging.getLogger(__name__)
T = TypeVar("T")
Followup = Callable[[Session], None]  # what a delivery records, in its settling transaction
MAX_PACING_WAIT = 2.0  # seconds a delivery may wait for its channel's pace in place
METADATA_EVENT = "firebell_outbox"  # message metadata naming the outbox row behind a post
CLOCK_SKEW = 10.0  # seconds Slack's clock may run behind the database's
HISTORY_PAGE = 200  # messages per conversations.history call, as Slack advises
MAX_HISTORY_PAGES = 10  # pages read looking for an earlier attempt's post
REMEMBERED = 10_000  # DM channels (Slack never changes them) and joins kept per process


@dataclass(frozen=True)
class Claimed:
    """A leased row with what it refers to, as of the claim (read in the same
    transaction): its incident, the messages showing the incident, its timeline entry;
    and when the earliest attempt that may have posted it began (None if none may have:
    see `outbox.Leased`)."""

    row: OutboxMessage
    incident: Incident | None
    entry: TimelineEntry | None = None
    earlier_attempt: datetime | None = None
    messages: tuple[IncidentMessage, ...] = ()

    def shown(self, role: str, channel: str | None = None) -> IncidentMessage | None:
        """The message of `role` (in `channel`) that shows the incident, if posted."""
        for message in self.messages:
            if message.role == role and channel in (None, message.channel):
                return message
        return None

    def need_incident(self) -> Incident:
        """The row's incident; a row without one is a bug, not worth retrying."""
        if self.incident is None:
            raise PermanentError(f"a {self.row.kind} needs an incident")
        return self.incident

    def need_channel(self) -> tuple[Incident, str]:
        """The incident and its channel; retried until the channel exists."""
        incident = self.need_incident()
        if incident.channel_id is None:
            raise TransientError(f"{incident.ref} has no channel yet")
        return incident, incident.channel_id


class Slack:
    """Slack as delivery uses it: the Web API, response URLs, pacing, the bot's identity,
    and the runbooks firebell started with (which posted runbooks are rendered from)."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        store: Store,
        config: Config,
        pacer: ChannelPacer,
        http: httpx.AsyncClient,
        runbooks: Mapping[str, Runbook] | None = None,
    ) -> None:
        self.client = client
        self.runbooks: Mapping[str, Runbook] = runbooks or {}
        self.store = store
        self.config = config
        self.pacer = pacer
        self.http = http
        self._bot_user: str | None = None
        self._dms: dict[str, str] = {}
        self._joined: dict[str, bool] = {}  # channel -> whether joining it worked

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a Web API method (see `slack_calls.call` for its errors)."""
        return await call(self.client, method, **params)

    async def update(self, channel: str, ts: str, text: str, blocks: Any) -> None:
        """Replace a message's text and blocks; one deleted meanwhile is left alone."""
        try:
            await self.call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackCallError as err:
            if err.code not in ("message_not_found", "cant_update_message"):
                raise

    async def bot_user(self) -> str:
        """The bot's own user ID (cached)."""
        if self._bot_user is None:
            self._bot_user = str((await self.call("auth.test"))["user_id"])
        return self._bot_user

    async def dm_channel(self, user: str) -> str:
        """The bot's DM channel with `user` (opened once, then remembered)."""
        if (known := self._dms.get(user)) is not None:
            return known
        data = await self.call("conversations.open", users=user)
        channel = str(data["channel"]["id"])
        _remember(self._dms, user, channel)
        return channel

    async def join(self, channel: str) -> None:
        """Be a member of `channel` before posting there (once per process): only a
        member reads a channel's history, where a retry looks for an earlier post. A
        channel the bot cannot join (a private one, or no `channels:join` scope) is
        posted to with `chat:write.public` as before."""
        if channel in self._joined or channel.startswith("D"):  # a DM: a member already
            return
        try:
            await self.call("conversations.join", channel=channel)
        except SlackCallError as err:
            log.warning("cannot join %s (%s): posting there without joining", channel, err.code)
            joined = False
        else:
            joined = True
        _remember(self._joined, channel, joined)

    async def post(
        self, claimed: Claimed, channel: str, text: str, *, unless: str | None = None, **params: Any
    ) -> str:
        """Post `claimed`'s message to `channel` once: an earlier attempt's post is reused.

        `unless`: why the message is moot now; if no earlier attempt posted it, it is
        not sent (`MootError`).
        """
        if claimed.incident is None or channel != claimed.incident.channel_id:
            await self.join(channel)  # the bot made the incident channel: a member
        if claimed.earlier_attempt is not None:
            earlier = await self._find_posted(claimed, channel)
            if earlier is not None:
                return earlier
        if unless is not None:
            raise MootError(unless)
        delay = self.pacer.reserve(channel, holder=claimed.row.id)
        if delay > MAX_PACING_WAIT:
            # A long queue for one channel (an announcements channel in a storm): hand
            # the row back to be tried when its token is due, rather than hold its
            # lease while waiting; the token stays reserved for it.
            self.pacer.hold(channel, delay, holder=claimed.row.id)
            raise PacedError(f"pacing {channel}", delay)
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            data = await self.call(
                "chat.postMessage", channel=channel, text=text, metadata=_mark(claimed), **params
            )
        except TransientError as err:
            # The retry keeps this attempt's turn in the channel's pace instead of
            # queueing behind every message reserved meanwhile: a page that met a 5xx
            # would otherwise wait out the whole backlog of its DM channel again.
            self.pacer.hold(channel, 0.0, holder=claimed.row.id)
            raise PostInDoubtError(str(err), timed_out=isinstance(err, TimedOutError)) from err
        return str(data["ts"])

    async def post_shown(
        self,
        claimed: Claimed,
        incident: Incident,
        *,
        role: str,
        channel: str,
        text: str,
        blocks: list[Block],
        data: dict[str, Any] | None = None,
        unless: str | None = None,
    ) -> Followup:
        """Post a message that shows `incident`; return how to remember it for refreshes."""
        ts = await self.post(claimed, channel, text, blocks=blocks, unless=unless)
        assert incident.id is not None  # noqa: S101 - read from the database
        return partial(
            save_message,
            incident_id=incident.id,
            role=role,
            channel=channel,
            ts=ts,
            revision=incident.revision,
            data=data or {},
        )

    async def _find_posted(self, claimed: Claimed, channel: str) -> str | None:
        """The ts of the message an earlier attempt at `claimed` posted, if one did.

        An attempt that died after Slack took its post, or whose call timed out after
        Slack had acted, left the message in `channel` after the attempt began (less
        some clock skew); the search reads that stretch of history, newest first, up
        to a bound.
        """
        assert claimed.earlier_attempt is not None  # noqa: S101 - checked by the caller
        oldest = claimed.earlier_attempt.timestamp() - CLOCK_SKEW
        cursor = ""
        for _ in range(MAX_HISTORY_PAGES):
            try:
                data = await self.call(
                    "conversations.history",
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
            except SlackCallError as err:
                if err.code == "not_in_channel" and self._joined.pop(channel, False):
                    raise TransientError(f"removed from {channel}: joining it again") from err
                # No way to tell whether the earlier attempt posted (no history scope, a
                # channel the bot cannot join): posting again could post twice.
                raise CannotTellError(
                    f"cannot tell whether an earlier attempt posted in {channel} "
                    f"(conversations.history: {err.code}), so it is not sent again"
                ) from err
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


def _remember(memory: dict[str, T], key: str, value: T) -> None:
    """Keep `value` for `key`, starting over once `REMEMBERED` keys are kept."""
    if len(memory) >= REMEMBERED:
        memory.clear()
    memory[key] = value


class CannotTellError(PermanentError):
    """An earlier attempt may have posted, and the channel's history cannot say."""


def _mark(claimed: Claimed) -> dict[str, Any]:
    """The message metadata that ties a post to its outbox row."""
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_row": claimed.row.id}}


def _is_mark(metadata: Any, claimed: Claimed) -> bool:
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("outbox_row") == claimed.row.id
