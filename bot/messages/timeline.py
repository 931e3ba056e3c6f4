"""`/incident timeline`: the incident's timeline as messages within Slack's limits.

Every entry the timeline shows (`bot.core.timeline.shown`: pins folded) is one line,
its time and its words (`events.line`). Lines are packed into sections of at most
3,000 characters, and sections into messages of at most `PART_SECTIONS` blocks
besides the title, well under Slack's 50. The split into messages is decided once,
when the command is typed, over entry ids (`split`), so a message retried posts the
same part; each part is rendered from its entries when it is sent (`part_message`),
packed the same way, and cut short with a note should its words have grown past the
limits meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.config.model import Config
from bot.core.timeline import shown
from bot.messages import events
from bot.messages.words import when
from bot.store.tables import Incident, TimelineEntry

MAX_SECTION = 3000  # characters of a section's text (Slack's limit)
MAX_BLOCKS = 50  # blocks of a message (Slack's limit)
PART_SECTIONS = 40  # sections of one message when the split is decided: room to grow
_CUT = "…"


def entry_line(entry: TimelineEntry, incident: Incident, config: Config) -> str:
    """One entry on the timeline: its time and its words, at most one section long."""
    text = f"{when(entry.at)} {events.line(entry, incident, config)}"
    return text if len(text) <= MAX_SECTION else text[: MAX_SECTION - len(_CUT)] + _CUT


def _sections(lines: Sequence[str]) -> list[list[int]]:
    """Which lines go in each section (indexes), packed in order."""
    sections: list[list[int]] = []
    size = MAX_SECTION + 1
    for index, text in enumerate(lines):
        if size + 1 + len(text) > MAX_SECTION:
            sections.append([])
            size = -1
        sections[-1].append(index)
        size += 1 + len(text)
    return sections


def split(entries: Sequence[TimelineEntry], incident: Incident, config: Config) -> list[list[int]]:
    """The shown entries' ids, per message to post, in order (one empty part for none)."""
    visible = shown(entries)
    lines = [entry_line(e, incident, config) for e in visible]
    ids = [int(e.id or 0) for e in visible]
    sections = _sections(lines)
    parts = [
        [ids[i] for section in sections[start : start + PART_SECTIONS] for i in section]
        for start in range(0, len(sections), PART_SECTIONS)
    ]
    return parts or [[]]


def title(incident: Incident, part: int, parts: int) -> str:
    """`Timeline of INC-7`, or `Timeline of INC-7 (2/3)` when it takes several messages."""
    return f"Timeline of {incident.ref}" + (f" ({part}/{parts})" if parts > 1 else "")


def part_message(
    incident: Incident,
    config: Config,
    entries: Sequence[TimelineEntry],
    *,
    part: int,
    parts: int,
    missing: int = 0,
) -> tuple[str, list[Block]]:
    """Message `part` of `parts` showing `entries` (in order); `missing` entries of the
    part no longer exist. Always within Slack's limits."""
    heading = title(incident, part, parts)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{heading}*"))]
    lines = [entry_line(e, incident, config) for e in entries]
    sections = _sections(lines)
    room = MAX_BLOCKS - 2  # the title, and a note if this part is cut short
    for section in sections[:room]:
        text = "\n".join(lines[i] for i in section)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    left = sum(len(s) for s in sections[room:])
    notes = []
    if not entries:
        notes.append("Nothing on the timeline yet.")
    if left:
        notes.append(f"{left} more entries do not fit here: `/incident timeline` posts them again.")
    if missing:
        notes.append(f"{missing} entries of this part no longer exist.")
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ".join(notes))]))
    return heading, blocks


def posting(incident: Incident, entries: int, parts: int) -> str:
    """The answer to `/incident timeline`."""
    messages = "one message" if parts == 1 else f"{parts} messages"
    noun = "entry" if entries == 1 else "entries"
    return f":scroll: Posting the timeline of {incident.ref} ({entries} {noun}) in {messages}."
