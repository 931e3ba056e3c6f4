"""The answers only the person who typed a command (or pressed a button) sees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.config.model import Config
from bot.core.escaping import channel_link, escape, mention
from bot.core.oncall import current_and_next
from bot.core.raci import Page
from bot.incidents.errors import UserError
from bot.messages.words import when
from bot.store.tables import Incident


def declared(incident: Incident) -> str:
    """A declaration went through (or a retry found it)."""
    return (
        f":rotating_light: {incident.ref} declared ({incident.severity}): "
        f"{escape(incident.title)}. Its channel is `#{incident.channel_name}`."
    )


def acknowledged(incident: Incident, *, changed: bool) -> str:
    """`/incident ack` or the `Acknowledge` button."""
    if changed:
        return f"You acknowledged {incident.ref}. Escalation stopped."
    return already_acknowledged(incident)


def already_acknowledged(incident: Incident) -> str:
    """Somebody had it before this acknowledgement."""
    who = incident.acknowledged_by
    return f"{incident.ref} was already acknowledged" + (f" by {mention(who)}." if who else ".")


def severity_changed(incident: Incident) -> str:
    """`/incident sev`."""
    return f"{incident.ref} is now {incident.severity}."


def lead_set(incident: Incident, lead: str) -> str:
    """`/incident lead`."""
    return f"{mention(lead)} now leads {incident.ref}."


def noted(incident: Incident) -> str:
    """`/incident note`."""
    return f"Added to the timeline of {incident.ref}."


def status_posted() -> str:
    """`/incident status`."""
    return "Status update posted."


def paging(pages: Sequence[Page]) -> str:
    """`/incident page`."""
    return "Paging " + ", ".join(mention(p.user) for p in pages) + "."


def escalated(incident: Incident, pages: Sequence[Page]) -> str:
    """`/incident escalate`."""
    return f"Escalated {incident.ref}: paging " + ", ".join(mention(p.user) for p in pages) + "."


def mitigated(incident: Incident) -> str:
    """`/incident mitigated`."""
    return f"{incident.ref} is mitigated."


def resolved(incident: Incident) -> str:
    """`/incident resolve`."""
    where = f" in {channel_link(incident.channel_id)}" if incident.channel_id else ""
    return f"{incident.ref} is resolved; its summary is posted{where}."


def oncall(config: Config, team_key: str, *, now: datetime) -> str:
    """On-call now and next for one team, or for every team."""
    key = team_key.strip().lower()
    if key and key not in config.teams:
        raise UserError(
            f"There is no team {escape(key)!r}. Teams: {', '.join(sorted(config.teams))}."
        )
    lines = []
    for k in [key] if key else list(config.teams):
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
