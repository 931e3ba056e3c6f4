"""Small pieces of wording: durations, dates, people, teams and areas (mrkdwn)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.config.model import Config
from bot.core.escaping import escape, mention
from bot.store.tables import Incident


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


def when(at: datetime) -> str:
    """A Slack date token: shown in each reader's own time zone."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def team_name(config: Config, key: str | None) -> str | None:
    """A team's name (its key if the config no longer has it), escaped."""
    if key is None:
        return None
    team = config.teams.get(key)
    return escape(team.name if team else key)


def area_name(config: Config, incident: Incident) -> str:
    """The incident's area as it was named when declared, escaped."""
    area = config.areas.get(incident.area)
    return escape(incident.area_name or (area.name if area else incident.area))


def who(config: Config, page: dict[str, Any]) -> str:
    """`<@U1> (responsible, ML Team on-call)` for one paged person."""
    team = page.get("team")
    if team is None:
        return f"{mention(page['user'])} ({page['role']})"
    known = config.teams.get(team)
    via = escape(known.name if known else team)
    if known is not None and known.oncall is not None:
        via += " on-call"
    return f"{mention(page['user'])} ({page['role']}, {via})"


def who_list(config: Config, pages: list[dict[str, Any]]) -> str:
    """A comma-separated list of `who(...)`."""
    return ", ".join(who(config, p) for p in pages)


def reason(why: dict[str, Any], incident: Incident, at: datetime) -> str:
    """Why someone is paged, from a page's `reason` facts ('' for the declaration)."""
    cause = why.get("cause")
    by = why.get("by")
    if cause == "severity":
        return f"severity raised to {why.get('severity')}"
    if cause == "unacknowledged":
        return f"unacknowledged for {ago(at - incident.declared_at)}"
    if cause == "escalated" and by:
        return f"escalated by {mention(by)}"
    if cause == "page" and by:
        return f"paged by {mention(by)}"
    if cause == "storm":
        return "an alert storm reaches your area"
    return ""
