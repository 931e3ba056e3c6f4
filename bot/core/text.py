"""What firebell accepts as text and IDs from Slack, before it stores them (pure).

PostgreSQL's text columns cannot hold NUL, and no database takes a lone surrogate
(JSON can carry both); other control characters only garble what Slack shows. A title
made only of zero-width or other invisible characters shows as nothing at all.
"""

from __future__ import annotations

import re
import unicodedata

MAX_ID = 40  # the store's ID columns (users, channels) hold this many characters
_SLACK_ID = re.compile(rf"[A-Z0-9]{{2,{MAX_ID}}}")
_ALLOWED_CONTROLS = {"\n", "\t", "\r"}
# Letters and symbols that show as blank space (Unicode gives them no category of
# their own): the Hangul fillers, the halfwidth filler and the blank Braille pattern.
_BLANK_GLYPHS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_VISIBLE = ("L", "N", "P", "S")  # letters, numbers, punctuation, symbols


def forbidden_character(text: str) -> str | None:
    """The first control character (other than line breaks and tab) or lone surrogate
    in `text`, as `U+0000`; None if it has none."""
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs":
            return f"U+{ord(char):04X}"
    return None


def is_blank(text: str) -> bool:
    """True when nothing of `text` would show: only spaces and invisible characters."""
    return not any(
        unicodedata.category(char).startswith(_VISIBLE) and char not in _BLANK_GLYPHS
        for char in text
    )


def is_slack_id(text: str) -> bool:
    """True for an ID as Slack writes them (`U01ML1`, `C0GENERAL`) that the store holds."""
    return _SLACK_ID.fullmatch(text) is not None
