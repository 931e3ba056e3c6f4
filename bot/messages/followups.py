"""Follow-ups and impact moments in words: the posted follow-up with its `Done` button,
the answers to `/incident followup`, `followups` and `impact`, and their timeline lines.

Users' words (a follow-up's text) are escaped here, never earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.escaping import channel_link, escape, mention
from bot.messages.restricted import subject
from bot.messages.words import ago, when
from bot.store.tables import FollowUp, Incident

if TYPE_CHECKING:
    from bot.messages.events import Fact

DONE_ACTION = "followup_done"  # the `Done` button's action_id; its value is the follow-up id
ADD_HINT = "Add one in an incident channel: `/incident followup <what needs doing> [@owner]`."
LIST_BUDGET = 3000  # characters of a listing: one section's worth, well under Slack's limits
LISTED_TEXT = 120  # characters of a follow-up's text in a listing


def followup_message(followup: FollowUp, incident: Incident) -> tuple[str, list[Block]]:
    """A posted follow-up: open with a `Done` button, or done with who and when."""
    text, owner = escape(followup.text), mention(followup.owner)
    if followup.state == "done" and followup.done_at is not None:
        by = mention(followup.done_by) if followup.done_by else "someone"
        done = f"Done by {by} {when(followup.done_at)}"
        return (
            f"Follow-up of {incident.ref} done: {text}",
            [
                SectionBlock(
                    text=MarkdownTextObject(
                        text=f":white_check_mark: *Follow-up done* · {incident.ref} · "
                        f"owner {owner}\n{text}"
                    )
                ),
                ContextBlock(elements=[MarkdownTextObject(text=done)]),
            ],
        )
    button = ButtonElement(
        text="Done", action_id=DONE_ACTION, value=str(followup.id), style="primary"
    )
    return (
        f"Follow-up of {incident.ref} for {owner}: {text}",
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":pushpin: *Follow-up* · {incident.ref} · owner {owner}\n{text}"
                )
            ),
            ActionsBlock(block_id=f"followup-{followup.id}", elements=[button]),
        ],
    )


def added(followup: FollowUp, incident: Incident) -> str:
    """`/incident followup`."""
    return (
        f"Follow-up recorded for {incident.ref}, owned by {mention(followup.owner)}; "
        "it is posted here with a `Done` button. `/incident followups` lists your open ones."
    )


def already_done(followup: FollowUp) -> str:
    """A second `Done` on one follow-up."""
    by = f" by {mention(followup.done_by)}" if followup.done_by else ""
    at = f" {when(followup.done_at)}" if followup.done_at else ""
    return f"That follow-up was already marked done{by}{at}."


def listing(
    items: Sequence[tuple[FollowUp, Incident]],
    *,
    total: int,
    owner: str | None,
    asker: str,
    now: datetime,
) -> str:
    """`/incident followups [@owner|all]`: open follow-ups of `owner` (None: everyone's),
    one line each, as many as fit in one message, then how many more there are."""
    if owner is None:
        title, empty = "Open follow-ups", "There are no open follow-ups."
    elif owner == asker:
        title, empty = "Your open follow-ups", "You have no open follow-ups."
    else:
        title = f"Open follow-ups of {mention(owner)}"
        empty = f"{mention(owner)} has no open follow-ups."
    if total == 0:
        return f"{empty} {ADD_HINT}"
    lines = [f"*{title}* ({total}), oldest first:"]
    size = len(lines[0])
    for followup, incident in items:
        line = _line(followup, incident, now=now)
        # Room is kept for the closing "and N more" line.
        if size + len(line) + 40 > LIST_BUDGET:
            break
        lines.append(line)
        size += len(line) + 1
    shown = len(lines) - 1
    if shown < total:
        lines.append(f"…and {total - shown} more.")
    return "\n".join(lines)


def _line(followup: FollowUp, incident: Incident, *, now: datetime) -> str:
    text = followup.text if len(followup.text) <= LISTED_TEXT else followup.text[:LISTED_TEXT] + "…"
    where = f" ({channel_link(incident.channel_id)})" if incident.channel_id else ""
    # A list is shown anywhere: a restricted incident's words stay in its channel.
    said = f":lock: {subject(incident)}" if incident.restricted else escape(text)
    return (
        f"• {incident.ref}{where} · {said} · {mention(followup.owner)} · "
        f"{ago(now - followup.created_at)} old"
    )


def impact_set(incident: Incident, edge: str) -> str:
    """`/incident impact start|end <time>`: what is set now, and what is missing."""
    start, end = incident.impact_started_at, incident.impact_ended_at
    moment = start if edge == "start" else end
    assert moment is not None  # noqa: S101 - just set by the use case
    verb = "started" if edge == "start" else "ended"
    text = f"The impact of {incident.ref} {verb} {when(moment)}."
    if start is not None and end is not None:
        text += f" Customer impact: {ago(end - start)}."
    elif start is None:
        text += " Say when it started too: `/incident impact start <time>`."
    return text


def followup_added_line(f: Fact) -> str:
    """The timeline line of a `followup_added` entry."""
    owner = mention(str(f.data.get("owner")))
    return f"{f.actor} added a follow-up for {owner}: {escape(str(f.data.get('text', '')))}"


def followup_done_line(f: Fact) -> str:
    """The timeline line of a `followup_done` entry."""
    owner = mention(str(f.data.get("owner")))
    text = escape(str(f.data.get("text", "")))
    return f"{f.actor} marked done the follow-up of {owner}: {text}"


def impact_set_line(f: Fact) -> str:
    """The timeline line of an `impact_set` entry."""
    moment = f.data.get("moment") or f.data.get("at")
    started = "started" if f.data.get("edge") == "start" else "ended"
    shown = when(datetime.fromisoformat(str(moment))) if moment else "at an unknown time"
    return f"{f.actor} noted that the impact of {f.incident.ref} {started} {shown}"
