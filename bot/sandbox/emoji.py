"""Emoji shortcodes as Slack shows them: the ones firebell writes, and common ones.

A shortcode that is not here stays as its text (`:name:`), as Slack shows an emoji
it does not know.
"""

from __future__ import annotations

import re

EMOJI = {
    "announcement": "📣",
    "arrows_counterclockwise": "🔄",
    "bell": "🔔",
    "calendar": "📆",
    "check": "✔️",
    "crown": "👑",
    "eyes": "👀",
    "fire": "🔥",
    "hourglass_flowing_sand": "⏳",
    "inbox_tray": "📥",
    "information_source": "\u2139\ufe0f",
    "large_blue_circle": "🔵",
    "large_green_circle": "🟢",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "link": "🔗",
    "mega": "📣",
    "package": "📦",
    "memo": "📝",
    "pushpin": "📌",
    "red_circle": "🔴",
    "rewind": "⏪",
    "rotating_light": "🚨",
    "sunny": "☀️",
    "tada": "🎉",
    "thumbsup": "👍",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "x": "❌",
}
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")


def emoji(name: str) -> str | None:
    """The emoji for a shortcode name (without colons), if it is a known one."""
    return EMOJI.get(name)


def with_emoji(text: str) -> str:
    """`text` with known `:shortcodes:` replaced by their emoji."""
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
