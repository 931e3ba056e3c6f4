"""The little of Markdown that runbooks need: fenced code blocks, headings, code spans.

Lines inside a fenced code block (``` or ~~~) are code: a `# comment` there is not a
heading, a `- [ ]` is not a step and `[x](y.md)` is not a link. Fences follow
CommonMark (a closing fence uses the opening character, at least as many times, and
nothing else), except that any indentation is accepted, as runbooks nest code blocks
in numbered steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<run>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


@dataclass(frozen=True)
class Fence:
    """The opening line of a fenced code block."""

    line: str  # as written, without its line end
    indent: str
    char: str
    length: int

    @property
    def closing(self) -> str:
        """The line that closes this block, without its line end."""
        return self.indent + self.char * self.length

    def closed_by(self, line: str) -> bool:
        """Whether `line` ends the block."""
        text = line.strip()
        return len(text) >= self.length and text == self.char * len(text)


def opening_fence(line: str) -> Fence | None:
    """The fence `line` opens a code block with, if it does."""
    match = _FENCE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    run = match["run"]
    if run[0] == "`" and "`" in match["info"]:  # ```x``` is an inline code span
        return None
    return Fence(match.group(0), match["indent"], run[0], len(run))


def split_lines(text: str) -> list[str]:
    """The lines of `text` with their line ends; only `\\n` ends a line, as in Markdown."""
    return _LINE.findall(text)


def open_blocks(lines: Sequence[str]) -> list[Fence | None]:
    """The code block open at each line boundary: entry `i` is the one before `lines[i]`.

    The list has one entry more than `lines`: the last is the block still open at the
    end (a fence never closed runs to the end, as in CommonMark).
    """
    states: list[Fence | None] = [None]
    current: Fence | None = None
    for line in lines:
        if current is None:
            current = opening_fence(line)
        elif current.closed_by(line):
            current = None
        states.append(current)
    return states


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(index, line without its end) of every line outside code blocks and fences."""
    lines = split_lines(text)
    states = open_blocks(lines)
    for index, line in enumerate(lines):
        if states[index] is None and states[index + 1] is None:
            yield index, line.rstrip("\r\n")


def is_heading(line: str) -> bool:
    """Whether `line` is an ATX heading (`#` to `######`), read outside code."""
    return _HEADING.match(line) is not None


def without_code_spans(line: str) -> str:
    """`line` with its inline code spans blanked, so their content is not read."""
    return _CODE_SPAN.sub(lambda match: " " * len(match.group(0)), line)
