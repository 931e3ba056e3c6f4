"""The storm incident: where new alert groups go once the storm budget is spent.

There is at most one unresolved storm incident (`origin='storm'`) of each restriction
class: a restricted one for the groups of `confidential` and `pii` services, an
ordinary one for the rest. Each is opened by the first group of its class past the
budget (under the storm lock, so once) and every later group of that class past the
budget joins it, until a person resolves it. A restricted group never joins the
ordinary storm (its alert names and summaries would reach the public channel and the
announcements), and an ordinary group never joins the restricted one (one storm per
class is the plainest rule, and keeps public alerts in sight of everyone). A storm
stays current with facts:

- each group that joins is a `storm_group` timeline entry (its group key, service,
  area, severity and alerts); the main message lists the groups from its alerts;
- its title is worded from those entries as groups join ("Alert storm: 47 groups from
  12 services", `bot.messages.alerts.storm_title`). The title column is what every
  message, list and export shows, so it is rewritten rather than worded at each place;
  the channel keeps the name it was created with (`inc-<n>-alert-storm`);
- its severity is the highest of its groups' (raised through `change_severity`, which
  pages whoever the new severity adds);
- each affected area's Responsible on-call is paged once (`who_to_page_at_level`,
  level `responsible`), whoever else is paged already is left out. The page DMs are
  queued before the channel posts: they have lanes of their own and lower ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.alert_routing import Route
from bot.core.raci import who_to_page_at_level
from bot.core.visibility import restricted_service
from bot.incidents import queue
from bot.incidents.alert_changes import (
    ACTOR,
    Outcome,
    add_group,
    apply_alerts,
    listed,
    lock_open,
    open_from_alerts,
)
from bot.incidents.changes import id_of
from bot.incidents.lifecycle import change_severity
from bot.incidents.paging import page_people, paged
from bot.incidents.records import record
from bot.integrations.model import AlertFacts, Notification
from bot.messages.alerts import STORM_TITLE, storm_title
from bot.store.alerts import open_storm_incident, storm_facts
from bot.store.tables import Incident


def join_storm(
    session: Session,
    config: Config,
    notification: Notification,
    route: Route,
    alerts: Sequence[AlertFacts],
    *,
    key_hash: str,
    again: datetime,
    now: datetime,
) -> Outcome:
    """Add a new group past the storm budget to the storm incident (opened if none is
    open); `again` is when the budget allows a new incident again."""
    restricted = restricted_service(config, route.service)
    found = open_storm_incident(session, restricted=restricted)
    incident = None if found is None else lock_open(session, found)
    opened = incident is None
    if incident is None:
        # No service: the storm spans areas (its groups' services are in their entries),
        # and a service's later groups must not take it for that service's incident.
        spanning = replace(route, service=None)
        incident = open_from_alerts(
            session,
            config,
            spanning,
            alerts,
            origin="storm",
            title=STORM_TITLE,
            now=now,
            restricted=restricted,
        )
    earlier = storm_facts(session, incident_id=id_of(incident))
    group = add_group(session, incident, notification, key_hash=key_hash, opened=False, now=now)
    changes = apply_alerts(session, incident, group, alerts, now=now)
    facts = {
        "source": notification.source,
        "group": notification.group_key,
        "service": route.service,
        "area": route.area,
        "severity": route.severity,
        **listed(changes.added),
    }
    # The group's entry holds its alerts: a new group has no alert to resolve or refire.
    record(session, incident, "storm_group", at=now, actor=ACTOR, **facts)
    incident.title = storm_title([*earlier, facts])
    queue.refresh(session, incident, now=now)
    if route.severity < incident.severity:  # P0 sorts first: a more severe group
        change_severity(
            session, config, incident_id=id_of(incident), actor=ACTOR, severity=route.severity
        )
    if route.area is not None and route.area not in {f.get("area") for f in earlier}:
        _page_area(session, config, incident, route.area, now=now)
    budget = config.alerts.max_new_incidents_per_minute
    why = (
        f"past the budget of {budget} new incidents a minute (free again at "
        f"{again:%H:%M:%S} UTC): {'opened' if opened else 'joined'} {incident.ref}"
    )
    return Outcome("storm", id_of(incident), why)


def _page_area(
    session: Session, config: Config, incident: Incident, area: str, *, now: datetime
) -> None:
    """Page the area's Responsible on-call for the storm, unless already paged."""
    paging = page_people(
        session,
        incident,
        who_to_page_at_level(config, area, "responsible", now),
        actor=ACTOR,
        reason={"cause": "storm", "area": area},
        step=incident.escalation_level,
        now=now,
        already=paged(session, incident),
    )
    dms = [m for m in paging.messages if m.kind == "page"]
    rest = [m for m in paging.messages if m.kind != "page"]
    queue.send(session, incident, *dms, *rest, now=now)
