"""Pinned messages in words: the timeline line of a `pinned` (and `unpinned`) entry.

A pinned message's text is stored as Slack gave it: mrkdwn with `&`, `<` and `>` as
entities and mentions as `<@U…>`. It is decoded, then escaped like any user's words,
so a pinned `<!channel>` reads as text and notifies nobody; it is shown on one line,
shortened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.escaping import escape, mention
from bot.core.text import is_slack_id
from bot.messages.words import when

QUOTED = 300  # characters of a pinned message quoted on its timeline line
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def quoted(text: str, limit: int = QUOTED) -> str:
    """A message's text, decoded from Slack's entities, on one line, shortened, escaped."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return escape(text) or "(no text)"


def _author(author: str) -> str:
    return mention(author) if author[:1] in ("U", "W") and is_slack_id(author) else "an app"


def _link(permalink: str) -> str:
    """A link to the message, if the permalink is one Slack could have made."""
    safe = permalink.startswith("https://") and not any(c in permalink for c in "<>| \n")
    return f" (<{permalink}|message>)" if safe else ""


def pinned_line(data: dict[str, Any], actor: str) -> str:
    """`@a pinned @b's message of <time>: “…” (message)`."""
    author = _author(str(data.get("author") or ""))
    posted = data.get("posted_at")
    of = f" of {when(datetime.fromisoformat(str(posted)))}" if posted else ""
    text, link = quoted(str(data.get("text") or "")), _link(str(data.get("permalink") or ""))
    return f"{actor} pinned a message by {author}{of}: “{text}”{link}"


def unpinned_line(actor: str) -> str:
    """`@a took a pin back` (never shown on the timeline; the audit trail words it)."""
    return f"{actor} took a pinned message off the timeline"
