"""Users' words reach Slack inert."""

from __future__ import annotations

import pytest

from bot.core.escaping import escape, parse_user


@pytest.mark.parametrize(
    "text",
    ["<!channel> now", "<!here>", "<@U123> look", "<!subteam^S01PLAT>", "<https://x|click>"],
)
def test_angle_bracket_mentions_are_escaped(text: str) -> None:
    """Nothing between < and > survives: Slack needs the brackets to notify."""
    out = escape(text)
    assert "<" not in out
    assert ">" not in out


@pytest.mark.parametrize("word", ["@channel", "@here", "@everyone", "@Channel"])
def test_bare_broadcast_words_are_broken_with_a_word_joiner(word: str) -> None:
    """`@here` typed as text cannot become a broadcast even with link_names."""
    out = escape(f"ping {word} please")
    assert word not in out
    assert out.replace("\u2060", "") == f"ping {word} please"


def test_ampersand_is_escaped_first() -> None:
    """`&lt;` typed by a user stays literal text rather than becoming `<`."""
    assert escape("a &lt; b & c") == "a &amp;lt; b &amp; c"


def test_plain_text_is_unchanged() -> None:
    """Ordinary titles read the same."""
    assert escape("Checkout answers are wrong (EU)") == "Checkout answers are wrong (EU)"


@pytest.mark.parametrize(
    ("text", "user"),
    [
        ("<@U01ML1>", "U01ML1"),
        ("<@U01ML1|ml-one>", "U01ML1"),
        ("U01ML1", "U01ML1"),
        ("@W0ABC", "W0ABC"),
        ("alice", None),
        ("<#C123>", None),
    ],
)
def test_parse_user_reads_mentions_and_ids(text: str, user: str | None) -> None:
    """Escaped mentions and raw IDs give the user ID; anything else gives None."""
    assert parse_user(text) == user
