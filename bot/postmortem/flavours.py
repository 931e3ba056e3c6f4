"""How each kind of postmortem writes words: Slack mrkdwn, or Markdown for a file.

Slack: users' words are escaped (`bot.core.escaping.escape`) and cut to a length that
keeps the summary within Slack's limits; people are mentions; times are Slack date
tokens, shown in each reader's own time zone. Markdown: users' words stay as typed,
but for what would break the document (`<`, which starts HTML, and line breaks, which
end a list item); people are `@U…`; times are UTC. Lines worded for Slack by
`bot.messages` (the timeline) are turned into Markdown by `markdown_from_mrkdwn`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.escaping import escape, mention
from bot.messages.words import when
from bot.postmortem.limits import clip

_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)>")
_SAFE_LINK = re.compile(r"^https://[^\s<>|]+$")
BOT = "firebell"  # the actor of what the clock did


@dataclass(frozen=True)
class Flavour:
    """The wording rules of one kind of output."""

    name: str  # `slack` or `markdown`
    words: Callable[[str, int], str]  # users' words, cut to a length (Slack only)
    person: Callable[[str], str]  # a Slack user ID
    moment: Callable[[datetime], str]
    worded: Callable[[str], str]  # a line `bot.messages` worded for Slack
    link: Callable[[str, str], str]  # (url, label): a link, if the url is a safe one
    fits_slack: bool  # lists are cut to their first and last items


def _slack_words(text: str, limit: int) -> str:
    return clip(escape(" ".join(text.split("\n")).strip()), limit)


def _slack_person(user: str) -> str:
    return user if user == BOT else mention(user)


def _slack_link(url: str, label: str) -> str:
    return f"<{url}|{label}>" if _SAFE_LINK.match(url) else ""


def markdown_words(text: str, _limit: int = 0) -> str:
    """Users' words for Markdown: readable as typed, on one line, no HTML, no table cell
    ended early by a `|`."""
    return " ".join(text.replace("<", "&lt;").replace("|", "\\|").split("\n")).strip()


def _markdown_person(user: str) -> str:
    return user if user == BOT else f"@{user}"


def _markdown_moment(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _markdown_link(url: str, label: str) -> str:
    return f"[{label}]({url})" if _SAFE_LINK.match(url) else ""


def markdown_from_mrkdwn(text: str) -> str:
    """A line worded for Slack, as Markdown: mentions, channels, dates and links in
    plain words; Slack's escapes undone except `&lt;`, which Markdown would take for HTML."""
    text = _DATE.sub(r"\1", text)
    text = _USER.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(r"[\2](\1)", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    text = text.replace("&gt;", ">").replace("&amp;", "&").replace("|", "\\|")
    return " ".join(text.split("\n")).strip()


SLACK = Flavour(
    name="slack",
    words=_slack_words,
    person=_slack_person,
    moment=when,
    worded=lambda line: line,
    link=_slack_link,
    fits_slack=True,
)
MARKDOWN = Flavour(
    name="markdown",
    words=markdown_words,
    person=_markdown_person,
    moment=_markdown_moment,
    worded=markdown_from_mrkdwn,
    link=_markdown_link,
    fits_slack=False,
)
