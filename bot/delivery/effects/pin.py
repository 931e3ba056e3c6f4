"""Pins from :pushpin: reactions: read the message from Slack, record it on the timeline.

A `pin` row reads the message (`conversations.history` at its ts; a threaded reply,
which history does not list, through `conversations.replies`) and its permalink, and
returns the recording of the `pinned` entry (`bot.incidents.pins.record_pin`), run in
the settling transaction. Reading is safe to repeat.

An `unpin` row goes through the same lane, so that it lands after a pin still pending.
Several people may have pinned one message: the row asks Slack (`reactions.get`)
whether any :pushpin: remains on it, and records the `unpinned` entry only when none
does; a message whose reactions cannot be read (deleted) is unpinned. Asked when
delivered, not when the event came, so a :pushpin: added again meanwhile keeps the pin.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlmodel import Session

from bot.core.pii import redact_for
from bot.delivery.retry import MootError, PermanentError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.delivery.slack_calls import SlackCallError
from bot.incidents.changes import id_of
from bot.incidents.pins import PIN_REACTION, PinnedMessage, record_pin, record_unpin

_GONE = {"message_not_found", "thread_not_found"}
_UNREADABLE = {*_GONE, "channel_not_found", "bad_timestamp"}  # reactions.get of no message


async def pin_message(slack: Slack, claimed: Claimed) -> Followup:
    """Read the reacted-to message and its permalink; record the pin once settled."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    channel, ts = str(payload["channel"]), str(payload["ts"])
    found = await _read_message(slack, channel, ts)
    if found is None:
        raise MootError(f"message {ts} in {channel} is gone: nothing to pin")
    try:
        data = await slack.call("chat.getPermalink", channel=channel, message_ts=ts)
    except SlackCallError as err:
        if err.code in _GONE:
            raise MootError(f"message {ts} in {channel} is gone: nothing to pin") from err
        raise
    message = PinnedMessage(
        text=redact_for(slack.config, incident.service, str(found.get("text") or "")),
        author=_author(found),
        posted_at=_posted_at(ts),
        permalink=str(data.get("permalink") or ""),
    )
    return partial(
        record_pin,
        incident_id=id_of(incident),
        actor=str(payload["user"]),
        at=datetime.fromisoformat(str(payload["at"])),
        channel=channel,
        ts=ts,
        message=message,
    )


async def unpin_message(slack: Slack, claimed: Claimed) -> Followup:
    """Record that the pin was taken back, unless someone's :pushpin: still stands."""
    incident, payload = claimed.need_incident(), claimed.row.payload
    channel, ts = str(payload["channel"]), str(payload["ts"])
    if await _still_pinned(slack, channel, ts):
        return _kept
    return partial(
        record_unpin,
        incident_id=id_of(incident),
        actor=str(payload["user"]),
        at=datetime.fromisoformat(str(payload["at"])),
        channel=channel,
        ts=ts,
    )


async def _still_pinned(slack: Slack, channel: str, ts: str) -> bool:
    """Whether a :pushpin: reaction remains on the message (False if it is gone)."""
    try:
        data = await slack.call("reactions.get", channel=channel, timestamp=ts, full=True)
    except SlackCallError as err:
        if err.code in _UNREADABLE:
            return False
        raise
    message = data.get("message")
    reactions = message.get("reactions") if isinstance(message, dict) else None
    return any(
        isinstance(r, dict) and r.get("name") == PIN_REACTION and int(r.get("count") or 0) > 0
        for r in reactions or []
    )


def _kept(session: Session) -> None:
    """Nothing to record: another :pushpin: keeps the message on the timeline."""


async def _read_message(slack: Slack, channel: str, ts: str) -> dict[str, Any] | None:
    """The message at `ts` in `channel` as Slack has it, or None if it is gone."""
    data = await slack.call(
        "conversations.history", channel=channel, latest=ts, inclusive=True, limit=1
    )
    found = _at(data, ts)
    if found is not None:
        return found
    # Not a message of the channel itself: a reply in a thread (or deleted).
    try:
        data = await slack.call(
            "conversations.replies", channel=channel, ts=ts, latest=ts, inclusive=True, limit=2
        )
    except SlackCallError as err:
        if err.code in _GONE:
            return None
        raise
    return _at(data, ts)


def _at(data: dict[str, Any], ts: str) -> dict[str, Any] | None:
    for message in data.get("messages") or []:
        if isinstance(message, dict) and message.get("ts") == ts:
            return message
    return None


def _author(message: dict[str, Any]) -> str:
    """Who wrote it: a user ID, else the bot or integration that posted it ('' if
    Slack does not say)."""
    for key in ("user", "bot_id", "username"):
        if message.get(key):
            return str(message[key])[:40]
    return ""


def _posted_at(ts: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except ValueError as err:  # checked when the event came in; a bug if it fails
        raise PermanentError(f"message ts {ts!r} is not a Slack timestamp") from err
