"""Which timeline entries an incident's timeline shows: pins folded, nothing else hidden.

A message pinned to the timeline (:pushpin: reaction) is a `pinned` entry with the
message's `channel` and `ts`; taking the reaction away is an `unpinned` entry with the
same two. Both stay in the database (the audit trail keeps everything); the timeline
shows a pin only while it stands, and never shows `unpinned` entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

PINNED, UNPINNED = "pinned", "unpinned"


class _Entry(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...


E = TypeVar("E", bound=_Entry)


def _message(entry: _Entry) -> tuple[str, str]:
    return str(entry.data.get("channel")), str(entry.data.get("ts"))


def shown(entries: Iterable[E]) -> list[E]:
    """The entries the timeline shows, in their order: a pin later taken away is left
    out, as is every `unpinned` entry; a message pinned again shows its latest pin."""
    ordered = list(entries)
    standing: dict[tuple[str, str], int] = {}  # message -> index of its standing pin
    for index, entry in enumerate(ordered):
        if entry.kind == PINNED:
            standing[_message(entry)] = index
        elif entry.kind == UNPINNED:
            standing.pop(_message(entry), None)
    keep = set(standing.values())
    return [e for i, e in enumerate(ordered) if e.kind not in (PINNED, UNPINNED) or i in keep]


def pins(entries: Sequence[E]) -> list[E]:
    """The `pinned` entries that stand, in the order they were pinned."""
    return [e for e in shown(entries) if e.kind == PINNED]
