"""What firebell accepts as text and IDs before it stores them."""

from __future__ import annotations

import pytest

from bot.core.text import forbidden_character, is_blank, is_slack_id
from bot.incidents.errors import UserError
from bot.incidents.typed import typed_text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\u200b\u200c\u200d",
        "\u2060\ufeff",
        "\u00ad",
        "\u3164",
        "\u2800 \u115f",
        "\u202e\u2066",
        "\u0301",
        "\n\t",
    ],
)
def test_text_of_only_invisible_characters_is_blank(text: str) -> None:
    """Zero-width, bidi, filler and combining characters alone show nothing."""
    assert is_blank(text)


@pytest.mark.parametrize("text", ["x", "\u200bCheckout", "5xx", "!", "\U0001f525", "Ошибка"])
def test_text_with_anything_that_shows_is_not_blank(text: str) -> None:
    """One letter, digit, punctuation mark or symbol is enough."""
    assert not is_blank(text)


def test_nul_escape_and_lone_surrogates_are_forbidden_but_line_breaks_are_not() -> None:
    """Control characters other than line breaks and tab, and lone surrogates, are named."""
    assert forbidden_character("a\x00b") == "U+0000"
    assert forbidden_character("red\x1b[31m") == "U+001B"
    assert forbidden_character("half \ud800") == "U+D800"
    assert forbidden_character("line one\nline two\tand\r\n") is None


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("U01ML1", True),
        ("C0GENERAL", True),
        ("W" + "1" * 39, True),
        ("U" + "1" * 40, False),
        ("u01ml1", False),
        ("U01\x00", False),
        ("", False),
        ("U", False),
        ("U01 ML1", False),
    ],
)
def test_slack_ids_are_upper_case_letters_and_digits_that_fit_the_store(
    text: str, valid: bool
) -> None:
    """IDs longer than the store's columns, or with other characters, are no Slack IDs."""
    assert is_slack_id(text) is valid


def test_typed_text_is_stripped_and_checked_once() -> None:
    """Surrounding space goes; a forbidden character, blankness or length are refused."""
    assert typed_text("  Down  ", what="title", limit=10, if_blank="say it") == "Down"
    assert typed_text("\u200b", what="summary", limit=10) == ""
    with pytest.raises(UserError, match="say it"):
        typed_text("\u200b\u2060", what="title", limit=10, if_blank="say it")
    with pytest.raises(UserError, match=r"U\+0000") as err:
        typed_text("a\x00", what="title", limit=10, field="title")
    assert err.value.field == "title"
    with pytest.raises(UserError, match="11 characters; keep it under 10"):
        typed_text("x" * 11, what="note", limit=10)
