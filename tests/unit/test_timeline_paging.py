"""The timeline as messages: split over entry ids at command time, each part within
Slack's limits, pins folded, a pinned message's words escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import SectionBlock

from bot.config.model import Config
from bot.messages import events
from bot.messages.pins import quoted
from bot.messages.timeline import MAX_BLOCKS, MAX_SECTION, part_message, split, title
from bot.sandbox.blockkit import validate_blocks
from bot.store.tables import Incident, TimelineEntry

DECLARED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
INCIDENT = Incident(
    id=7,
    number=7,
    title="Checkout is wrong",
    severity="P1",
    area="model",
    area_name="Model/Prompt",
    declared_by="U0OTHER",
    declared_at=DECLARED,
    channel_name="inc-7-checkout",
)


def entry(entry_id: int, kind: str = "note", **data: Any) -> TimelineEntry:
    """Entry `entry_id`, one second after the one before."""
    at = DECLARED + timedelta(seconds=entry_id)
    return TimelineEntry(id=entry_id, incident_id=7, at=at, actor="U01ML1", kind=kind, data=data)


def notes(count: int) -> list[TimelineEntry]:
    """`count` notes, every 97th as long as a note may be and swollen by escaping."""
    return [
        entry(n, text=f"note-{n:04d} " + ("<&>" * 1000 if n % 97 == 0 else "ok " * (n % 13)))
        for n in range(1, count + 1)
    ]


def rendered(entries: list[TimelineEntry], config: Config) -> list[list[dict[str, Any]]]:
    """Each part's blocks as Slack gets them."""
    parts = split(entries, INCIDENT, config)
    by_id = {e.id: e for e in entries}
    return [
        [
            b.to_dict()
            for b in part_message(
                INCIDENT, config, [by_id[i] for i in ids], part=n, parts=len(parts)
            )[1]
        ]
        for n, ids in enumerate(parts, start=1)
    ]


def test_a_thousand_entries_split_into_parts_holding_each_entry_once_in_order(
    config: Config,
) -> None:
    """Every id lands in exactly one part, in timeline order, and there are several."""
    entries = notes(1000)
    parts = split(entries, INCIDENT, config)
    assert len(parts) > 1
    assert [i for ids in parts for i in ids] == list(range(1, 1001))


def test_every_part_of_a_thousand_entries_is_within_slacks_limits(config: Config) -> None:
    """At most 50 blocks, sections of at most 3,000 characters, as Slack validates them."""
    for blocks in rendered(notes(1000), config):
        assert len(blocks) <= MAX_BLOCKS
        assert validate_blocks(blocks) == []
        assert all(len(b["text"]["text"]) <= MAX_SECTION for b in blocks if b["type"] == "section")


def test_a_part_whose_words_grew_is_cut_short_with_a_note_not_refused(config: Config) -> None:
    """Given more entries than one message holds, the part stays within 50 blocks and
    says how many entries did not fit."""
    entries = [entry(n, text="x" * 2900) for n in range(1, 81)]
    _, blocks = part_message(INCIDENT, config, entries, part=1, parts=1)
    assert len(blocks) == MAX_BLOCKS
    assert "32 more entries do not fit here" in str(blocks[-1].to_dict())


def test_titles_number_the_parts_only_when_there_are_several() -> None:
    """`Timeline of INC-7`, or `Timeline of INC-7 (2/3)`."""
    assert title(INCIDENT, 1, 1) == "Timeline of INC-7"
    assert title(INCIDENT, 2, 3) == "Timeline of INC-7 (2/3)"


def test_an_empty_timeline_is_one_part_that_says_so(config: Config) -> None:
    """No entries: one message, with a note instead of an empty list."""
    assert split([], INCIDENT, config) == [[]]
    _, blocks = part_message(INCIDENT, config, [], part=1, parts=1)
    assert "Nothing on the timeline yet." in str(blocks[-1].to_dict())


def test_a_pin_taken_back_is_not_posted(config: Config) -> None:
    """The split is over the shown entries: the unpinned message and the unpin are out."""
    pin = {"channel": "C1", "ts": "1.1", "text": "clue", "author": "U01PL1"}
    entries = [
        entry(1, "declared", severity="P1"),
        entry(2, "pinned", **pin),
        entry(3, "unpinned", channel="C1", ts="1.1"),
    ]
    assert split(entries, INCIDENT, config) == [[1]]


def test_a_pinned_message_is_quoted_escaped_with_its_author_time_and_link(
    config: Config,
) -> None:
    """Slack's entities are decoded then escaped again: `<!channel>` notifies nobody."""
    pin = entry(
        2,
        "pinned",
        channel="C1",
        ts="1.1",
        text="&lt;!channel&gt; p95 &amp; errors\nup",
        author="U01PL1",
        posted_at=DECLARED.isoformat(),
        permalink="https://x.slack.com/archives/C1/p11",
    )
    line = events.line(pin, INCIDENT, config)
    assert line.startswith("<@U01ML1> pinned a message by <@U01PL1> of <!date^")
    assert "“&lt;!channel&gt; p95 &amp; errors up”" in line
    assert line.endswith("(<https://x.slack.com/archives/C1/p11|message>)")


def test_a_permalink_slack_could_not_have_made_is_not_linked(config: Config) -> None:
    """A link that is not https, or would break out of the link syntax, is left out."""
    for permalink in ("javascript:alert(1)", "https://x|<!channel>"):
        pin = entry(2, "pinned", channel="C1", ts="1.1", text="t", author="U1", permalink=permalink)
        assert "|message>" not in events.line(pin, INCIDENT, config)


def test_long_pinned_messages_are_shortened_on_their_line() -> None:
    """A quote is at most 300 characters before escaping, ending with an ellipsis."""
    text = quoted("word " * 200)
    assert len(text) == 300
    assert text.endswith("…")


def test_sections_are_slack_section_blocks(config: Config) -> None:
    """Built with slack_sdk, which checks Slack's own limits."""
    _, blocks = part_message(INCIDENT, config, notes(3), part=1, parts=1)
    assert all(isinstance(b, SectionBlock) for b in blocks)
