"""Cutting a long runbook into pieces that fit Slack's `markdown` block (12,000 characters).

Each piece ends at the best place before the limit: before the last heading, else after
the last blank line (a paragraph's end), else at the last line end; never inside a
fenced code block, so a block that would straddle the limit moves whole to the next
piece. A single block longer than the limit is the exception: the piece ends with a
fence that closes it and the next piece starts with its opening line again (same fence,
same info string), so each piece renders as code on its own. Only a line longer than
the limit is ever cut, where nothing else can be.

`split_pieces` says which fence lines were added, so that the pieces' bodies put
together give back the text exactly; `split_markdown` gives the texts to post.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.runbooks.markdown import Fence, is_heading, open_blocks, split_lines

SLACK_MARKDOWN_LIMIT = 12_000


class _Cut(IntEnum):
    """How good a place to end a piece is; higher is better."""

    MID_LINE = 0
    IN_CODE = 1
    LINE = 2
    PARAGRAPH = 3
    HEADING = 4


@dataclass(frozen=True)
class Piece:
    """One piece: `body` is the runbook's own text; `reopen`/`close` are fence lines added."""

    body: str
    reopen: str = ""
    close: str = ""

    @property
    def text(self) -> str:
        """The piece as posted."""
        return self.reopen + self.body + self.close


@dataclass(frozen=True)
class _Unit:
    """A line (or, for a line longer than a piece, a part of one) and the place before it."""

    text: str
    block: Fence | None  # the code block open just before this unit
    cut: _Cut  # how good a place the start of this unit is to end a piece


def split_markdown(text: str, limit: int = SLACK_MARKDOWN_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters (see the module's doc)."""
    return [piece.text for piece in split_pieces(text, limit)]


def split_pieces(text: str, limit: int = SLACK_MARKDOWN_LIMIT) -> list[Piece]:
    """`text` in pieces of at most `limit` characters, with the fence lines added to each."""
    if limit < 1:
        raise ValueError(f"a piece needs room for at least one character, not {limit}")
    units = _units(text, limit)
    pieces: list[Piece] = []
    start = 0
    while start < len(units):
        end = _best_end(units, start, limit)
        body = "".join(unit.text for unit in units[start:end])
        block = units[end].block if end < len(units) else None
        pieces.append(Piece(body, _reopen(units[start].block), _close(block, body)))
        start = end
    return pieces


def _best_end(units: list[_Unit], start: int, limit: int) -> int:
    """Where the piece starting at `units[start]` should end (an index past `start`)."""
    size = len(_reopen(units[start].block))
    best: tuple[_Cut, int] | None = None
    for end in range(start + 1, len(units) + 1):
        size += len(units[end - 1].text)
        if size > limit:
            break
        if end == len(units):
            return end
        unit = units[end]
        if unit.block is not None and size + len(_close(unit.block, units[end - 1].text)) > limit:
            continue
        if best is None or unit.cut >= best[0]:
            best = (unit.cut, end)
    # Nothing fits only when the limit leaves no room beside a fence line: overflow then.
    return start + 1 if best is None else best[1]


def _units(text: str, limit: int) -> list[_Unit]:
    lines = split_lines(text)
    blocks = open_blocks(lines)
    units: list[_Unit] = []
    for index, line in enumerate(lines):
        before, after = blocks[index], blocks[index + 1]
        if before is not None:
            cut = _Cut.IN_CODE
        elif after is None and is_heading(line):
            cut = _Cut.HEADING
        elif index > 0 and blocks[index - 1] is None and not lines[index - 1].strip():
            # The line before is blank and outside code: a paragraph ends here.
            cut = _Cut.PARAGRAPH
        else:
            cut = _Cut.LINE
        room = limit
        if before is not None:
            room -= len(_reopen(before)) + len(_close(before, ""))
        room = max(1, room)
        # The parts of a line too long for any piece: the only cuts inside a line.
        for offset in range(0, len(line), room):
            first = offset == 0
            units.append(
                _Unit(line[offset : offset + room], before, cut if first else _Cut.MID_LINE)
            )
    return units


def _reopen(block: Fence | None) -> str:
    return "" if block is None else block.line + "\n"


def _close(block: Fence | None, body: str) -> str:
    if block is None:
        return ""
    return ("" if body.endswith("\n") else "\n") + block.closing + "\n"
