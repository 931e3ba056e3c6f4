"""Sentences the bot says about incidents (mrkdwn; users' words escaped)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from bot.config.model import Config
from bot.core.escaping import mention
from bot.core.raci import Page


def who(config: Config, page: Page) -> str:
    """`<@U1> (responsible, ML Team)` for one paged person."""
    if page.team is None:
        return f"{mention(page.user)} ({page.role})"
    team = config.teams[page.team]
    via = f"{team.name} on-call" if team.oncall else team.name
    return f"{mention(page.user)} ({page.role}, {via})"


def who_list(config: Config, pages: Iterable[Page]) -> str:
    """A comma-separated list of `who(...)`."""
    return ", ".join(who(config, p) for p in pages)


def ago(delta: timedelta) -> str:
    """`3m`, `1h 5m`, `2d 4h`: a short human duration."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{value}{unit}"
        for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s"))
        if value
    ]
    return " ".join(parts[:2]) or "0s"
