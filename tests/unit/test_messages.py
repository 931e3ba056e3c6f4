"""Wording rendered from stored facts: timeline lines, channel posts, page reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config.model import Config
from bot.messages import events
from bot.messages.incident import main_message, page_message
from bot.messages.words import ago, reason
from bot.store.tables import Incident, TimelineEntry

DECLARED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _incident(**fields: Any) -> Incident:
    values: dict[str, Any] = {
        "id": 7,
        "number": 7,
        "title": "Checkout <!channel> is wrong",
        "severity": "P1",
        "area": "model",
        "area_name": "Model/Prompt",
        "declared_by": "U0OTHER",
        "declared_at": DECLARED,
        "response_deadline": DECLARED + timedelta(hours=1),
        "channel_name": "inc-7-checkout",
    }
    return Incident(**{**values, **fields})


def _entry(kind: str, minutes: float = 0, actor: str = "U01ML1", **data: Any) -> TimelineEntry:
    at = DECLARED + timedelta(minutes=minutes)
    return TimelineEntry(incident_id=7, at=at, actor=actor, kind=kind, data=data)


def test_an_acknowledgement_says_how_long_it_took_and_whether_it_was_in_time(
    config: Config,
) -> None:
    """After 75 minutes of a 1-hour deadline: `15m past the deadline`."""
    deadline = (DECLARED + timedelta(hours=1)).isoformat()
    entry = _entry("acknowledged", 75, deadline=deadline)
    assert events.post(entry, _incident(), config) == (
        ":white_check_mark: <@U01ML1> acknowledged INC-7 after 1h 15m, 15m past the deadline."
    )
    early = _entry("acknowledged", 5, deadline=deadline)
    assert events.line(early, _incident(), config).endswith("after 5m, in time")


def test_users_words_are_escaped_when_told(config: Config) -> None:
    """A note or status with `<!channel>` or `@here` reaches Slack inert."""
    status = events.post(_entry("status", text="<!channel> @here rolled back"), _incident(), config)
    assert "<!channel>" not in status
    assert "&lt;!channel&gt;" in status
    assert "@\u2060here" in status
    declared = events.line(
        _entry("declared", title="x <@U999>", severity="P1"), _incident(), config
    )
    assert "<@U999>" not in declared


def test_an_escalation_post_names_each_person_their_role_and_team(config: Config) -> None:
    """`INC-7 unacknowledged for 1h: paging <@A>, accountable for Model/Prompt`."""
    pages = [
        {"user": "U01MLLEAD", "role": "accountable", "team": None},
        {"user": "U01DA1", "role": "consulted", "team": "data"},
    ]
    entry = _entry(
        "escalated",
        60,
        actor="firebell",
        step=2,
        level="accountable",
        cause="unacknowledged",
        pages=pages,
    )
    assert events.post(entry, _incident(), config) == (
        ":rotating_light: INC-7 unacknowledged for 1h: paging <@U01MLLEAD>, accountable for "
        "Model/Prompt; <@U01DA1>, consulted for Model/Prompt (Data Team)"
    )


def test_names_come_from_what_was_stored_when_the_config_no_longer_has_them(
    config: Config,
) -> None:
    """A renamed area and a removed team still render, by the stored name and the key."""
    gone = config.model_copy(update={"areas": {}, "teams": {}})
    incident = _incident(area="old-area", area_name="Old Area")
    pages = [{"user": "U1", "role": "consulted", "team": "old-team"}]
    post = events.post(
        _entry(
            "escalated",
            60,
            actor="firebell",
            step=2,
            level="everyone",
            cause="unacknowledged",
            pages=pages,
        ),
        incident,
        gone,
    )
    assert "consulted for Old Area (old-team)" in post
    _, blocks = main_message(incident, gone)
    assert "Old Area" in str([b.to_dict() for b in blocks])


def test_an_entry_from_before_facts_were_stored_shows_its_old_words(config: Config) -> None:
    """Migration 0003 moved an entry's text to `legacy_text`; it is shown as it was."""
    entry = _entry("note", legacy_text="*old* words")
    assert events.line(entry, _incident(), config) == "*old* words"


def test_a_page_says_why_from_its_reason_facts(config: Config) -> None:
    """Declaration: no reason; escalation: how long unacknowledged; by hand: by whom."""
    incident, at = _incident(), DECLARED + timedelta(minutes=90)
    assert reason({"cause": "declared"}, incident, at) == ""
    assert reason({"cause": "unacknowledged"}, incident, at) == "unacknowledged for 1h 30m"
    assert reason({"cause": "page", "by": "U2"}, incident, at) == "paged by <@U2>"
    text, _ = page_message(
        incident,
        config,
        role="consulted",
        team="data",
        why={"cause": "severity", "severity": "P0"},
        at=at,
        channel_id="C1",
    )
    assert "as consulted, Data Team (severity raised to P0)" in text


def test_durations_read_as_the_two_largest_units() -> None:
    """`ago` keeps the two most significant units."""
    assert ago(timedelta(days=2, hours=4, minutes=5)) == "2d 4h"
    assert ago(timedelta(seconds=0)) == "0s"


def test_the_main_message_warns_when_the_services_rollback_drills_need_attention(
    config: Config,
) -> None:
    """A failed or overdue drill is a warning line on the main message of its service."""
    incident = _incident(service="checkout-assistant")
    _, blocks = main_message(incident, config, drill_warning="the last rollback drill failed")
    shown = str([block.to_dict() for block in blocks])
    assert ":warning: checkout-assistant: the last rollback drill failed" in shown
    _, quiet = main_message(incident, config)
    assert ":warning:" not in str([block.to_dict() for block in quiet])
