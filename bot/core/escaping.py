"""Making users' words safe to show in Slack mrkdwn.

Slack turns `<!channel>`, `<!here>`, `<@U…>` and `<!subteam^…>` into notifications,
and with `link_names` also bare `@channel`. Escaping `&`, `<` and `>` disarms the first
kind; a word joiner after the `@` of the special names disarms the second, while the
text still reads the same.
"""

from __future__ import annotations

import re

from bot.core.text import MAX_ID

_SPECIAL = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Return `text` as inert mrkdwn: no mention, link or broadcast can come out of it."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def mention(user: str) -> str:
    """A mention of a Slack user ID (which we produced, not the user)."""
    return f"<@{user}>"


def channel_link(channel: str) -> str:
    """A link to a Slack channel ID."""
    return f"<#{channel}>"


# Bounded by what the store holds: a longer "ID" is no user.
_USER_MENTION = re.compile(rf"^<@([UW][A-Z0-9]{{1,{MAX_ID - 1}}})(?:\|[^>]*)?>$")
_USER_ID = re.compile(rf"^@?([UW][A-Z0-9]{{2,{MAX_ID - 1}}})$")


def parse_user(text: str) -> str | None:
    """The user ID in `<@U123>`, `<@U123|name>` or `U123`; None if it is not one."""
    text = text.strip()
    match = _USER_MENTION.match(text) or _USER_ID.match(text)
    return match.group(1) if match else None
