"""The weekly review in words: Slack blocks within Slack's limits with users' words
escaped, the one-line week without incidents, and the terminal's full listing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.reviews.digest import Digest, weekly_digest
from bot.reviews.render import BLOCK_LIMIT, SECTION_LIMIT, digest_blocks, digest_text
from bot.store.tables import FollowUp, Incident
from tests.unit.test_review_digest import BERLIN, NOW, WEEK, in_week, incident


def _digest(incidents: list[Incident], followups: list[FollowUp] | None = None) -> Digest:
    return weekly_digest(
        week=WEEK,
        zone=BERLIN,
        incidents=incidents,
        rollbacks=[],
        followups=followups or [],
        refs={i.id: i.ref for i in incidents if i.id is not None},
        now=NOW,
    )


def _texts(blocks: list[Any]) -> list[str]:
    """Every mrkdwn text of the blocks, as Slack gets them (validated by slack_sdk)."""
    texts = []
    for block in blocks:
        data = block.to_dict()
        if "text" in data:
            texts.append(data["text"]["text"])
        texts += [e["text"] for e in data.get("elements", []) if "text" in e]
    return texts


def test_a_week_without_incidents_says_so_in_one_line() -> None:
    """The body is one line naming the week; the terminal's too."""
    found = _digest([])
    text, blocks = digest_blocks(found)
    assert _texts(blocks)[2:] == ["No incidents were declared in 2026-W10."]
    assert "No incidents" in text
    lines = digest_text(found).splitlines()
    assert lines[3:] == ["No incidents were declared in 2026-W10."]


def test_a_quiet_week_still_lists_open_follow_ups() -> None:
    """No incidents, but an older incident's follow-up is open: both are said."""
    old = incident(in_week(2))
    assert old.id is not None
    followup = FollowUp(
        incident_id=old.id,
        text="Add a canary",
        owner="U01DA1",
        created_by="U01DA1",
        created_at=in_week(2, 3),
    )
    body = _texts(digest_blocks(_digest([old], [followup]))[1])[2:]
    assert body[0] == "No incidents were declared in 2026-W10."
    assert body[1].startswith(
        "*Open follow-ups*\n• " + old.ref + ": Add a canary (<@U01DA1>, open "
    )


def test_users_words_are_escaped_in_slack_and_shown_as_typed_in_the_terminal() -> None:
    """A title with `<!channel>` and `@here` cannot notify anyone from the review."""
    loud = incident(in_week(0))
    loud.title = "<!channel> checkout & @here down"
    found = _digest([loud])
    joined = "\n".join(_texts(digest_blocks(found)[1]))
    assert "<!channel>" not in joined
    assert "&lt;!channel&gt; checkout &amp; @\u2060here down" in joined
    assert "<!channel> checkout & @here down" in digest_text(found)


def test_the_review_names_who_finally_acknowledged_a_missed_deadline() -> None:
    """Acknowledged 30 minutes late by U01ML2: said with a mention in Slack."""
    late = incident(in_week(0), ack_after=timedelta(minutes=90), acknowledged_by="U01ML2")
    joined = "\n".join(_texts(digest_blocks(_digest([late]))[1]))
    assert f"{late.ref} (P1): acknowledged 30m late, finally by <@U01ML2>" in joined
    assert f"{late.ref} (P1): acknowledged 30m late, finally by U01ML2" in digest_text(
        _digest([late])
    )


def test_a_huge_week_stays_within_slacks_limits_and_says_where_to_see_it_all() -> None:
    """600 incidents with long titles full of `&`: at most 50 blocks, sections of at
    most 3,000 characters, and a pointer to `firebell review --week`."""
    many = [incident(in_week(0, i / 100), service=f"svc-{i % 40}") for i in range(600)]
    for item in many:
        item.title = "&" * 200
    found = _digest(many)
    _, blocks = digest_blocks(found)
    texts = _texts(blocks)
    assert len(blocks) <= BLOCK_LIMIT
    assert max(len(t) for t in texts) <= SECTION_LIMIT
    assert any("…and 585 more: `firebell review --week 2026-W10` lists all" in t for t in texts)
    assert len([line for line in digest_text(found).splitlines() if "(P1, Model" in line]) == 600


def test_the_trend_reads_this_week_against_the_four_before() -> None:
    """Two incidents now, one in the weeks before: counts, medians and shares."""
    found = _digest([incident(in_week(0)), incident(in_week(0, 2)), incident(in_week(1))])
    text = digest_text(found)
    assert "Incidents: 2 (mean of the 4 weeks before: 0.25)" in text
    assert "Median time to acknowledge: 10m (before: 10m)" in text
    assert "Deadlines met: 100% (before: 100%)" in text
