"""What a restricted incident shows outside its private channel: one line, no words of
its own (no title, description, status, summary or timeline).

"INC-7 (P1) restricted incident on checkout-assistant", with its state and the way to
its channel, which only its members can open.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.escaping import channel_link, escape
from bot.store.tables import Incident


def subject_words(incident: Incident) -> str:
    """`restricted incident on checkout-assistant`, not escaped (for text that is)."""
    if incident.service:
        return f"restricted incident on {incident.service}"
    if incident.origin == "storm":
        return "restricted incident on several services"
    return f"restricted incident in {incident.area_name or incident.area}"


def subject(incident: Incident) -> str:
    """`restricted incident on checkout-assistant`, escaped for Slack."""
    return escape(subject_words(incident))


def restricted_line(incident: Incident) -> str:
    """`INC-7 (P1) restricted incident on checkout-assistant`."""
    return f"{incident.ref} ({incident.severity}) {subject(incident)}"


def _where(incident: Incident) -> str:
    if not incident.channel_id:
        return "Its details are in its private channel, for its members."
    return f"Its details are in {channel_link(incident.channel_id)}, for its members."


def restricted_message(incident: Incident) -> tuple[str, list[Block]]:
    """The incident's mirror (announcements, backlog, informed teams) and the answer to
    `/incident show` outside its channel: the line, its state, where the details are."""
    line = restricted_line(incident)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f":lock: *{line}*")),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"State: {incident.state} · {_where(incident)}")]
        ),
    ]
    return f":lock: {line} · {incident.state}", blocks


def restricted_short_summary(incident: Incident) -> str:
    """The short postmortem summary of a restricted incident."""
    return (
        f":lock: *{restricted_line(incident)}* is {incident.state}. "
        "The postmortem summary and timeline are in its private channel, for its members."
    )


def restricted_post() -> str:
    """A timeline entry told outside the channel (a sprint reminder in the backlog)."""
    return "There is news in its private channel, for its members."
