"""One week's review read from the database, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config.model import Config
from bot.feedback.cases import summarise
from bot.reviews.digest import Digest, weekly_digest, window
from bot.reviews.failures import (
    EXAMPLES,
    agreed_failure_rates,
    failure_facts,
    hidden_services,
)
from bot.reviews.week import Week, bounds
from bot.store.reviews import (
    incident_refs,
    incidents_between,
    open_followups,
    restricted_services,
    rollbacks_between,
)


def gather_digest(
    session: Session,
    *,
    week: Week,
    zone: ZoneInfo,
    now: datetime,
    config: Config,
) -> Digest:
    """The review of `week` in `zone`, as the database has it at `now`; `config` tells
    the services' agreed `max_failure_rate` and which are `confidential` or `pii`."""
    start, end = bounds(week, zone)
    first, last = window(week, zone)
    incidents = incidents_between(session=session, start=first, end=last)
    rollbacks = rollbacks_between(session=session, start=start, end=end)
    followups = open_followups(session=session, before=end)
    known = {i.id: i.ref for i in incidents if i.id is not None}
    named = {r.incident_id for r in rollbacks if r.incident_id is not None}
    named |= {f.incident_id for f in followups}
    refs = {**known, **incident_refs(session=session, ids=named - known.keys())}
    # Those outside the window: the window's incidents say so themselves.
    restricted = restricted_services(session=session, ids=named - known.keys())
    hidden = hidden_services(config)
    cases = summarise(session, over=end - start, until=end, examples=EXAMPLES, unquoted=hidden)
    return weekly_digest(
        week=week,
        zone=zone,
        incidents=incidents,
        rollbacks=rollbacks,
        followups=followups,
        refs=refs,
        now=now,
        restricted=restricted,
        failures=failure_facts(cases, agreed_failure_rates(config), hidden),
    )
