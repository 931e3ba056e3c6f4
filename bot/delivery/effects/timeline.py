"""A part of an incident's timeline, posted in its channel (`/incident timeline`)."""

from __future__ import annotations

from sqlmodel import Session

from bot.delivery.retry import TransientError
from bot.delivery.slack import Claimed, Slack
from bot.messages.timeline import part_message
from bot.store.incidents import entries_by_id
from bot.store.outage import is_unreachable
from bot.store.tables import TimelineEntry


async def timeline_part(slack: Slack, claimed: Claimed) -> None:
    """Post the part the row names, worded from its entries as they are now."""
    incident, channel = claimed.need_channel()
    payload = claimed.row.payload
    ids = [int(i) for i in payload.get("entries") or []]
    try:
        found = await slack.store.run(_entries, ids=ids)
    except Exception as err:
        if is_unreachable(err):
            raise TransientError("the database cannot be reached") from err
        raise
    entries = [found[i] for i in ids if i in found]
    text, blocks = part_message(
        incident,
        slack.config,
        entries,
        part=int(payload["part"]),
        parts=int(payload["parts"]),
        missing=len(ids) - len(entries),
    )
    await slack.post(claimed, channel, text, blocks=blocks)


def _entries(session: Session, *, ids: list[int]) -> dict[int, TimelineEntry]:
    return entries_by_id(session, entry_ids=ids) if ids else {}
