"""A summary fits one Slack message whatever the incident holds or a template prints."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from slack_sdk.models.blocks import Block

from bot.config.model import Config
from bot.postmortem.facts import Postmortem, postmortem_of
from bot.postmortem.limits import MAX_BLOCKS, MAX_SECTION, MAX_TEXT, clip, fitted
from bot.postmortem.render import short_message, summary_message
from bot.sandbox.blockkit import validate_blocks
from bot.store.tables import FollowUp, TimelineEntry
from tests.postmortem.test_templates import AT, facts

LONG = "<!channel> & " + "very long words " * 200  # 3,000+ characters, hostile


def within_limits(text: str, blocks: list[Block]) -> bool:
    """What Slack accepts: text, block count and every section's length."""
    shown = [b.to_dict() for b in blocks]
    return len(text) <= MAX_TEXT and len(shown) <= MAX_BLOCKS and not validate_blocks(shown)


def huge(config: Config) -> Postmortem:
    """An incident with 1,000 long notes, 300 status updates, 200 pins and follow-ups."""
    base = facts(config)
    entries = [*base.timeline]
    for n in range(1000):
        kind = ("note", "status", "pinned")[n % 3] if n < 900 else "note"
        data = {"text": f"{n} {LONG}"}
        if kind == "pinned":
            data |= {"channel": "C0INC7", "ts": f"{n}.0", "author": "U01ML1"}
        at = AT + timedelta(seconds=n)
        entries.append(
            TimelineEntry(id=10 + n, incident_id=1, at=at, actor="U01ML1", kind=kind, data=data)
        )
    followups = [
        FollowUp(id=n, incident_id=1, text=LONG, owner="U01ML2", created_by="U01ML1", created_at=AT)
        for n in range(200)
    ]
    return postmortem_of(
        base.incident, config, entries=entries, rollbacks=[], ticked=[], followups=followups, now=AT
    )


def test_a_summary_of_1000_timeline_entries_stays_within_slacks_limits(config: Config) -> None:
    """1,000 long entries: the first and last are shown, the rest counted and linked."""
    pm = huge(config)
    text, blocks = summary_message(pm, config)
    assert within_limits(text, blocks)
    shown = "\n".join(b.to_dict().get("text", {}).get("text", "") for b in blocks)
    assert "… 982 more entries: `/incident timeline`" in shown
    assert "<!channel>" not in shown
    assert within_limits(*short_message(pm, config))


def test_a_template_printing_too_much_is_cut_with_a_note(tmp_path: Path, config: Config) -> None:
    """A team's template that prints everything a hundred times is cut at 50 blocks."""
    (tmp_path / "summary.slack.j2").write_text(
        "{% for _ in range(100) %}{{ incident.title * 500 }}\n---\n{% endfor %}"
    )
    custom = config.model_copy(update={"templates": str(tmp_path)})
    text, blocks = summary_message(facts(config), custom)
    assert within_limits(text, blocks)
    assert len(blocks) == MAX_BLOCKS
    assert "firebell export INC-7" in blocks[-1].to_dict()["text"]["text"]


def test_a_cut_never_splits_an_escape_or_a_slack_token() -> None:
    """Cutting stops before `&amp;` or `<@U…>` rather than inside them."""
    assert clip("abc &amp; def", 8) == "abc…"
    assert clip("hi <@U01ML1> there", 8) == "hi…"
    assert clip("short", 10) == "short"


def test_a_line_longer_than_a_section_is_cut_to_fit() -> None:
    """One 10,000-character line becomes one section of at most 3,000 characters."""
    text, blocks = fitted("x" * 10_000, cut_note="cut")
    assert len(text) <= MAX_SECTION
    assert [len(b.to_dict()["text"]["text"]) <= MAX_SECTION for b in blocks] == [True]
