"""`/incident oncall [team]`: who is on call now and who is next."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config.model import Config
from bot.core.escaping import escape, mention
from bot.core.oncall import current_and_next
from bot.incidents.errors import UserError
from bot.slack.render import when


def utcnow() -> datetime:
    """The wall clock, for answers that show the present."""
    return datetime.now(UTC)


def oncall_text(config: Config, team_key: str, *, now: datetime) -> str:
    """On-call now and next for one team, or for every team with a rotation."""
    key = team_key.strip().lower()
    if key and key not in config.teams:
        raise UserError(
            f"There is no team {escape(key)!r}. Teams: {', '.join(sorted(config.teams))}."
        )
    keys = [key] if key else list(config.teams)
    lines = []
    for k in keys:
        team = config.teams[k]
        shifts = current_and_next(team, now)
        if shifts is None:
            members = ", ".join(mention(m) for m in team.members) or "nobody"
            lines.append(f"*{escape(team.name)}*: no rotation; pages go to {members}")
            continue
        current, upcoming = shifts
        lines.append(
            f"*{escape(team.name)}*: {mention(current.user)} until {when(current.ends)}, "
            f"then {mention(upcoming.user)}"
        )
    return "\n".join(lines)
