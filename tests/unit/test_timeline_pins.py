"""Pins on the timeline: a pin shows while its reaction stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.timeline import pins, shown


@dataclass
class Entry:
    """A stand-in for a timeline row: a kind and its facts."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def pin(ts: str, kind: str = "pinned") -> Entry:
    """A pin (or unpin) of message `ts` in channel C1."""
    return Entry(kind, {"channel": "C1", "ts": ts})


def test_a_standing_pin_is_shown_among_the_other_entries() -> None:
    """A pin nobody took back is shown where it happened."""
    entries = [Entry("declared"), pin("1.1"), Entry("note")]
    assert shown(entries) == entries


def test_a_pin_taken_back_is_left_out_and_so_is_the_unpin() -> None:
    """Removing the reaction removes the pin from the timeline."""
    entries = [Entry("declared"), pin("1.1"), Entry("note"), pin("1.1", "unpinned")]
    assert shown(entries) == [entries[0], entries[2]]
    assert pins(entries) == []


def test_a_message_pinned_again_shows_its_latest_pin_only() -> None:
    """Pin, unpin, pin: one pin, the last."""
    entries = [pin("1.1"), pin("1.1", "unpinned"), pin("1.1"), pin("2.2")]
    assert pins(entries) == [entries[2], entries[3]]


def test_an_unpin_of_a_message_never_pinned_changes_nothing() -> None:
    """A stray `reaction_removed` shows nothing and hides nothing."""
    entries = [pin("1.1"), pin("9.9", "unpinned")]
    assert shown(entries) == [entries[0]]
