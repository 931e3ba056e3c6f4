"""Keeping a rendered summary within Slack's limits, whatever a template or an incident holds.

A Slack template renders mrkdwn; a line that is only `---` separates parts, shown as
dividers. Each part becomes section blocks of at most 3,000 characters (split at line
ends; a longer line is cut). Past 49 blocks the rest is left out with a line that says
where to read it all. The message's `text` (the notification, and what clients without
blocks show) is the first part. Cuts never split an escape (`&amp;`) or a Slack token
(`<@U…>`, `<!date…>`), which would show as garbage or break the message.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, MarkdownTextObject, SectionBlock

MAX_SECTION = 3000  # characters of a section's text
MAX_BLOCKS = 50  # blocks of a message
MAX_TEXT = 40_000  # characters of a message's text
DIVIDER = "---"
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text`, or as much of it as fits in `limit` characters followed by `…`; never
    cut inside an `&…;` escape or a `<…>` token."""
    if limit <= 0 or len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    amp = cut.rfind("&")
    if amp > cut.rfind(";") and len(cut) - amp <= 8:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def _chunks(part: str) -> list[str]:
    """`part` in pieces of at most `MAX_SECTION` characters, split at line ends."""
    pieces: list[str] = []
    current = ""
    for raw in part.split("\n"):
        line = clip(raw, MAX_SECTION)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= MAX_SECTION:
            current = candidate
            continue
        if current.strip():
            pieces.append(current)
        current = line
    if current.strip():
        pieces.append(current)
    return pieces


def parts(rendered: str) -> list[str]:
    """The parts of a rendered Slack template, blank ones left out."""
    found: list[str] = []
    current: list[str] = []
    for line in rendered.split("\n"):
        if line.strip() == DIVIDER:
            found.append("\n".join(current))
            current = []
        else:
            current.append(line)
    found.append("\n".join(current))
    return [part.strip("\n") for part in found if part.strip()]


def fitted(rendered: str, *, cut_note: str) -> tuple[str, list[Block]]:
    """The message text and blocks of a rendered Slack template, within Slack's limits.

    `cut_note` is the last section when blocks had to be left out (mrkdwn).
    """
    blocks: list[Block] = []
    texts = parts(rendered) or [ELLIPSIS]
    for index, part in enumerate(texts):
        if index:
            blocks.append(DividerBlock())
        blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in _chunks(part)]
    if len(blocks) > MAX_BLOCKS:
        kept = blocks[: MAX_BLOCKS - 1]
        while kept and isinstance(kept[-1], DividerBlock):
            kept.pop()
        blocks = [*kept, SectionBlock(text=MarkdownTextObject(text=clip(cut_note, MAX_SECTION)))]
    return clip(texts[0], MAX_SECTION), blocks
