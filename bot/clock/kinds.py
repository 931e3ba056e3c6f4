"""What each kind of deadline does when it comes due: one line per kind.

A handler runs in the transaction that claimed the row, with the row marked fired
and, for a deadline of an incident, the incident locked (None for a deadline of no
incident: a weekly review, a rollback drill). It re-checks what it needs (the
incident may have been acknowledged since the row was written) and may add the next
row of its schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session

from bot.audit.prune import PRUNE, fire_prune
from bot.config.model import Config
from bot.incidents.drills import DRILL, fire_drill
from bot.incidents.escalation import ESCALATE, SPRINT, WARN, fire_escalation, fire_warning
from bot.incidents.reminders import STATUS, fire_sprint_reminder, fire_status_reminder
from bot.incidents.runbook_reviews import REVIEW, fire_runbook_review
from bot.reviews.schedule import WEEKLY_REVIEW, fire_weekly_review
from bot.store.tables import Deadline, Incident

Handler = Callable[[Session, Config, Deadline, Incident | None, datetime], None]
Kinds = Mapping[str, Handler]

KINDS: Kinds = {
    ESCALATE: fire_escalation,
    WARN: fire_warning,
    STATUS: fire_status_reminder,
    SPRINT: fire_sprint_reminder,
    REVIEW: fire_runbook_review,
    DRILL: fire_drill,
    WEEKLY_REVIEW: fire_weekly_review,
    PRUNE: fire_prune,
}
