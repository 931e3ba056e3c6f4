"""Incident channel names follow Slack's rules."""

from __future__ import annotations

import re

from bot.core.channels import MAX_CHANNEL_NAME, channel_name

VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


def test_channel_name_is_inc_number_and_slug() -> None:
    """`inc-<n>-<slug-of-title>` in lowercase with hyphens."""
    assert channel_name(7, "Checkout answers are WRONG!") == "inc-7-checkout-answers-are-wrong"


def test_accents_and_symbols_are_folded_to_ascii() -> None:
    """Non-ASCII letters fold; runs of symbols become one hyphen."""
    assert channel_name(3, "Café — API 5xx @ EU") == "inc-3-cafe-api-5xx-eu"


def test_long_titles_are_cut_to_80_characters_without_trailing_hyphen() -> None:
    """The name never exceeds Slack's 80 characters and never ends in a hyphen."""
    name = channel_name(12345, "word " * 60)
    assert len(name) <= MAX_CHANNEL_NAME
    assert VALID.match(name)
    assert not name.endswith("-")


def test_title_without_letters_gives_just_the_number() -> None:
    """An emoji-only title still gets a valid name."""
    assert channel_name(9, "🔥🔥") == "inc-9"


def test_suffix_makes_a_distinct_valid_name() -> None:
    """A taken name gets `-2`, `-3` ... within the length limit."""
    name = channel_name(5, "x" * 200, suffix=2)
    assert name.endswith("-2")
    assert len(name) <= MAX_CHANNEL_NAME
