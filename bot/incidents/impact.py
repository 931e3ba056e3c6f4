"""Impact moments: when customers were first and last hurt (`/incident impact start|end`).

Impact often starts before anyone declares (the graph shows it an hour back), so a
start before the declaration is normal; what must hold is that the impact ends no
earlier than it starts, and that neither moment is in the future. Like follow-ups,
the moments may be set after the resolve, when the postmortem establishes them: the
use case takes the incident's row lock through `open_for_record`.

The entry's data is `{edge, moment, previous}` (ISO moments; `previous` is what the
edge was before, or None). The entry's own time is `at`, which is also the name of
`record`'s keyword, so the impact moment is `moment` in the data.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.core.when import MomentError, parse_moment
from bot.incidents.errors import UserError
from bot.incidents.followups import open_for_record
from bot.incidents.records import record
from bot.messages.words import when
from bot.store.tables import Incident

IMPACT_SET = "impact_set"  # timeline kind
EDGES = ("start", "end")


def set_impact(
    session: Session, *, incident_id: int, actor: str, edge: str, moment: str
) -> Incident:
    """Set when the impact started (`edge` `start`) or ended (`end`) from what was typed."""
    if edge not in EDGES:
        raise UserError("Say `start` or `end`, e.g. `/incident impact start 25m ago`.")
    incident, now = open_for_record(session, incident_id)
    try:
        at = parse_moment(moment, now=now)
    except MomentError as err:
        raise UserError(f"{err} E.g. `/incident impact {edge} 25m ago`.") from err
    start, end = incident.impact_started_at, incident.impact_ended_at
    if edge == "start" and end is not None and at > end:
        raise UserError(
            f"The impact cannot start at {when(at)}, after it ended ({when(end)}). "
            f"Set the end first: `/incident impact end <time>`."
        )
    if edge == "end" and start is not None and at < start:
        raise UserError(
            f"The impact cannot end at {when(at)}, before it started ({when(start)}). "
            f"Set the start first: `/incident impact start <time>`."
        )
    previous = start if edge == "start" else end
    if edge == "start":
        incident.impact_started_at = at
    else:
        incident.impact_ended_at = at
    session.add(incident)
    record(
        session,
        incident,
        IMPACT_SET,
        at=now,
        actor=actor,
        post=True,
        edge=edge,
        moment=at.isoformat(),
        previous=previous.isoformat() if previous else None,
    )
    return incident
