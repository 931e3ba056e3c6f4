"""Timeline entries in words: one line for the timeline, one post for the channel.

Every entry kind has a line; `POSTS` gives a kind that is told in a channel its own
wording, else the post is the line with the kind's icon. A new kind is one function
here and one line in each table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config.model import Config
from bot.core.escaping import escape, mention
from bot.messages import alerts
from bot.messages.followups import followup_added_line, followup_done_line, impact_set_line
from bot.messages.pins import pinned_line, unpinned_line
from bot.messages.rollback import finished_icon, finished_line, started_line
from bot.messages.words import ago, area_name, reason, team_name, who_list
from bot.store.tables import Incident, TimelineEntry


@dataclass(frozen=True)
class Fact:
    """An entry with what wording it needs: its incident (as it is now) and the config."""

    entry: TimelineEntry
    incident: Incident
    config: Config

    @property
    def data(self) -> dict[str, Any]:
        """The entry's fields."""
        return self.entry.data

    @property
    def actor(self) -> str:
        """A mention of whoever did it (firebell itself is named, not mentioned)."""
        return "firebell" if self.entry.actor == "firebell" else mention(self.entry.actor)


def line(entry: TimelineEntry, incident: Incident, config: Config) -> str:
    """The entry as one line of the timeline."""
    if "legacy_text" in entry.data:  # written before entries held facts (migration 0003)
        return str(entry.data["legacy_text"])
    wording = LINES.get(entry.kind)
    return wording(Fact(entry, incident, config)) if wording else escape(entry.kind)


def post(entry: TimelineEntry, incident: Incident, config: Config) -> str:
    """The entry as a post in a channel."""
    fact = Fact(entry, incident, config)
    if "legacy_text" in entry.data:
        return str(entry.data["legacy_text"])
    if entry.kind in POSTS:
        return POSTS[entry.kind](fact)
    return f"{ICONS.get(entry.kind, ':information_source:')} {line(entry, incident, config)}."


def _declared(f: Fact) -> str:
    title = escape(str(f.data.get("title", f.incident.title)))
    if f.data.get("origin"):
        return f"Alerts opened {f.incident.ref} ({f.data.get('severity')}): {title}"
    return f"{f.actor} declared {f.incident.ref} ({f.data.get('severity')}): {title}"


def _acknowledged(f: Fact) -> str:
    took = ago(f.entry.at - f.incident.declared_at)
    text = f"{f.actor} acknowledged {f.incident.ref} after {took}"
    deadline = f.data.get("deadline")
    if deadline:
        late = f.entry.at - datetime.fromisoformat(deadline)
        text += f", {ago(late)} past the deadline" if late.total_seconds() > 0 else ", in time"
    return text


def _severity_changed(f: Fact) -> str:
    return (
        f"{f.actor} changed the severity of {f.incident.ref} "
        f"from {f.data.get('from')} to {f.data.get('to')}"
    )


def _lead_set(f: Fact) -> str:
    return f"{f.actor} made {mention(str(f.data.get('lead')))} the incident lead"


def _said(f: Fact) -> str:
    return escape(str(f.data.get("text", "")))


def _status_post(f: Fact) -> str:
    return f":mega: *Status update* from {f.actor}: {_said(f)}"


def _paged(f: Fact) -> str:
    return f"Paged {who_list(f.config, f.data.get('pages', []))}"


def _paged_post(f: Fact) -> str:
    return f":rotating_light: Paging for {f.incident.ref}: {_paged(f).removeprefix('Paged ')}"


def _why(f: Fact) -> str:
    return reason({"cause": f.data.get("cause"), "by": f.entry.actor}, f.incident, f.entry.at)


def _escalated(f: Fact) -> str:
    return f"Escalated to level {f.data.get('step')} ({f.data.get('level')}): {_why(f)}"


def _escalated_post(f: Fact) -> str:
    area = area_name(f.config, f.incident)
    people = [
        f"{mention(p['user'])}, {p['role']} for {area}"
        + (f" ({team_name(f.config, p['team'])})" if p.get("team") else "")
        for p in f.data.get("pages", [])
    ]
    paging = "; ".join(people) or f"nobody is configured at level {f.data.get('level')}"
    return f":rotating_light: {f.incident.ref} {_why(f)}: paging {paging}"


def _page_undelivered(f: Fact) -> str:
    who = mention(str(f.data.get("user")))
    role = f" ({f.data['role']})" if f.data.get("role") else ""
    error = escape(str(f.data.get("error") or "unknown error"))
    if f.data.get("moot"):
        return (
            f"Stopped paging {who}{role}: {f.incident.ref} was {f.data['moot']} before the "
            f"page got through (Slack kept failing: `{error}`)"
        )
    return (
        f"Could not page {who}{role}: `{error}`. Reach them another way, "
        f"or page someone else with `/incident page @someone`"
    )


def _warned(f: Fact) -> str:
    deadline = f.data.get("deadline")
    left = ago(datetime.fromisoformat(deadline) - f.entry.at) if deadline else "moments"
    return (
        f"{f.incident.ref} is unacknowledged: respond within {left} or it escalates to "
        f"{f.data.get('next_level')}. Press `Acknowledge` or type `/incident ack`"
    )


def _status_reminder(f: Fact) -> str:
    to = f.data.get("to")
    since = datetime.fromisoformat(str(f.data.get("since")))
    return (
        f"{mention(to) + ', ' if to else ''}{f.incident.ref} has had no status update for "
        f"{ago(f.entry.at - since)}. Post one with `/incident status <what is happening>`"
    )


def _sprint_reminder(f: Fact) -> str:
    return (
        f"{f.incident.ref} ({f.incident.severity}) is still unacknowledged at the start of "
        f"the sprint: {escape(f.incident.title)}"
    )


def _mitigated(f: Fact) -> str:
    return f"{f.actor} marked {f.incident.ref} mitigated"


def _resolved(f: Fact) -> str:
    # The resolution is told in the channel by the postmortem summary (bot.postmortem),
    # not by a post of this entry; the line is the timeline's.
    summary = f": {escape(str(f.data['summary']))}" if f.data.get("summary") else ""
    return f"{f.actor} resolved {f.incident.ref}{summary}"


def _runbook_step(f: Fact) -> str:
    done = "ticked" if f.data.get("ticked") else "unticked"
    runbook, step = escape(str(f.data.get("runbook"))), escape(str(f.data.get("text")))
    return f"{f.actor} {done} “{step}” in runbook `{runbook}`"


def _runbook_shown(f: Fact) -> str:
    return f"{f.actor} posted runbook `{escape(str(f.data.get('runbook')))}`"


Wording = Callable[[Fact], str]

LINES: dict[str, Wording] = {
    "declared": _declared,
    "acknowledged": _acknowledged,
    "severity_changed": _severity_changed,
    "lead_set": _lead_set,
    "note": _said,
    "status": _said,
    "paged": _paged,
    "escalated": _escalated,
    "page_undelivered": _page_undelivered,
    "warned": _warned,
    "status_reminder": _status_reminder,
    "sprint_reminder": _sprint_reminder,
    "mitigated": _mitigated,
    "resolved": _resolved,
    "runbook_step": _runbook_step,
    "runbook_shown": _runbook_shown,
    "rollback_started": lambda f: started_line(f.data, f.actor),
    "rollback_finished": lambda f: finished_line(f.data),
    "pinned": lambda f: pinned_line(f.data, f.actor),
    "unpinned": lambda f: unpinned_line(f.actor),
    "followup_added": followup_added_line,
    "followup_done": followup_done_line,
    "impact_set": impact_set_line,
    "alerts_added": lambda f: alerts.alerts_added_line(f.data),
    "alerts_resolved": lambda f: alerts.alerts_resolved_line(f.data),
    "alert_refired": lambda f: alerts.alert_refired_line(f.data),
    "storm_group": lambda f: alerts.storm_group_line(f.data),
}
POSTS: dict[str, Wording] = {
    "alerts_resolved": lambda f: alerts.alerts_resolved_post(f.data, f.incident),
    "status": _status_post,
    "paged": _paged_post,
    "escalated": _escalated_post,
    "rollback_finished": lambda f: f"{finished_icon(f.data)} {finished_line(f.data)}",
}
ICONS = {
    "acknowledged": ":white_check_mark:",
    "severity_changed": ":arrows_counterclockwise:",
    "lead_set": ":crown:",
    "page_undelivered": ":warning:",
    "warned": ":hourglass_flowing_sand:",
    "status_reminder": ":memo:",
    "sprint_reminder": ":calendar:",
    "mitigated": ":large_yellow_circle:",
    "resolved": ":white_check_mark:",
    "rollback_started": ":rewind:",
    "impact_set": ":chart_with_downwards_trend:",
    "alerts_added": ":bell:",
    "alert_refired": ":fire:",
}
