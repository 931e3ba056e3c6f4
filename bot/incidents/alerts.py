"""Ingesting an alert notification: one transaction that turns it into incidents.

The HTTP edge stores the notification (`AlertNotification`) and calls `ingest` in the
same transaction; `ingest` records what the notification did (`outcome`, `incident_id`,
`reason`):

1. **Its group's incident.** A group (`groupKey` of its source) goes to one incident
   while that incident is unresolved: `attached` (`storm` for the storm incident) when
   the notification changed alerts there, `repeated` when it changed nothing. Once that
   incident is resolved, the group's next firing opens a new one.
2. **Nothing to open for**: only resolved alerts and no open incident: `ignored`.
3. **Unrouted**: no known service or area (`bot.core.alert_routing`): a post to the
   backlog channel saying what arrived and that nothing was opened, or one WARNING when
   there is no backlog channel: `backlog`. Never silently dropped.
4. **The service's open incident**: with `alerts.attach_to_open`, a new group of a
   service that has an unresolved incident joins it: `attached`.
5. **A new incident**, declared as a person would (`bot.incidents.declare`), while the
   storm budget allows (`bot.core.storm`): `opened`. Beyond it, the group joins the
   storm incident (`bot.incidents.alert_storm`): `storm`.

Alerts that join an open incident (1 and 4) raise its severity when they are more
severe (`raise_severity`: paging whoever the new level adds); they never lower it.

Concurrency: the group is serialised first (an advisory lock on its key hash), so two
notifications of one new group at once open one incident; then the service, so two new
groups of one service open one incident; then the storm budget, so two replicas cannot
both take its last slot (`bot.store.alerts`: always in this order, then incident rows).
SQLite has one writer at a time, which gives the same.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.alert_routing import route_notification
from bot.core.storm import may_open, next_slot
from bot.incidents.alert_changes import (
    Outcome,
    add_group,
    apply_alerts,
    distinct_alerts,
    lock_open,
    open_from_alerts,
    raise_severity,
    tell_changes,
)
from bot.incidents.alert_storm import join_storm
from bot.incidents.changes import id_of
from bot.integrations.model import Notification
from bot.store.alerts import (
    STORM_LOCK,
    key_hash,
    lock_name,
    open_group,
    open_incident_of_service,
    opened_since,
    settle_notification,
)
from bot.store.outbox import Message, enqueue

log = logging.getLogger(__name__)

BACKLOG_POST = "alert_backlog"  # outbox kind: unrouted alerts told in the backlog channel
MAX_NAMES = 20  # alert names a backlog post lists


def ingest(
    session: Session,
    config: Config,
    notification: Notification,
    *,
    notification_id: int,
    now: datetime,
) -> None:
    """Turn a stored notification into incidents, and record on it what it did."""
    done = _ingest(session, config, notification, notification_id=notification_id, now=now)
    settle_notification(
        session,
        notification_id=notification_id,
        outcome=done.outcome,
        incident_id=done.incident_id,
        reason=done.reason,
    )


def _ingest(
    session: Session,
    config: Config,
    notification: Notification,
    *,
    notification_id: int,
    now: datetime,
) -> Outcome:
    alerts = distinct_alerts(notification)
    if not alerts:
        return Outcome("ignored", None, "the notification holds no alerts")
    group_hash = key_hash(notification.source, notification.group_key)
    lock_name(session, f"alerts:group:{group_hash}")
    group = open_group(session, key_hash=group_hash)
    incident = None if group is None else lock_open(session, group.incident_id)
    if group is not None and incident is not None:
        changes = apply_alerts(session, incident, group, alerts, now=now)
        if not changes:
            return Outcome("repeated", group.incident_id, f"no alert changed in {incident.ref}")
        tell_changes(
            session, config, incident, group, changes, joined=False, post_added=False, now=now
        )
        raise_severity(session, config, incident, notification, changes)
        kind = "storm" if incident.origin == "storm" else "attached"
        return Outcome(kind, group.incident_id, f"{changes.said()} in {incident.ref}")
    if not notification.firing:
        return Outcome(
            "ignored", None, "its alerts are resolved and its group has no open incident"
        )
    route = route_notification(config, notification)
    if not route.routed:
        return _to_backlog(session, config, notification, notification_id=notification_id, now=now)
    if config.alerts.attach_to_open and route.service is not None:
        lock_name(session, f"alerts:service:{route.service}")
        found = open_incident_of_service(session, service=route.service)
        incident = None if found is None else lock_open(session, found)
        if incident is not None:
            group = add_group(
                session, incident, notification, key_hash=group_hash, opened=False, now=now
            )
            changes = apply_alerts(session, incident, group, alerts, now=now)
            tell_changes(
                session, config, incident, group, changes, joined=True, post_added=True, now=now
            )
            raise_severity(session, config, incident, notification, changes)
            why = f"joined {incident.ref}, the open incident of service {route.service}"
            return Outcome("attached", id_of(incident), why)
    budget = config.alerts.max_new_incidents_per_minute
    lock_name(session, STORM_LOCK)
    recent = opened_since(session, now=now)
    if not may_open(recent, now=now, per_minute=budget):
        again = next_slot(recent, now=now, per_minute=budget)
        return join_storm(
            session, config, notification, route, alerts, key_hash=group_hash, again=again, now=now
        )
    incident = open_from_alerts(session, config, route, alerts, origin="alert", now=now)
    group = add_group(session, incident, notification, key_hash=group_hash, opened=True, now=now)
    changes = apply_alerts(session, incident, group, alerts, now=now)
    tell_changes(session, config, incident, group, changes, joined=True, post_added=False, now=now)
    return Outcome("opened", id_of(incident), f"a new group: opened {incident.ref}")


def _to_backlog(
    session: Session,
    config: Config,
    notification: Notification,
    *,
    notification_id: int,
    now: datetime,
) -> Outcome:
    """Tell the backlog channel that alerts arrived which no incident was opened for."""
    channel = config.channels.backlog
    names = sorted({a.name for a in notification.firing})
    rules = config.alerts
    if channel is None:
        log.warning(
            "alert notification %s (%s, %d firing: %s) names no known service or area and "
            "there is no backlog channel: no incident was opened. Give the alerts a `%s` or "
            "`%s` label, or set alerts.default_area or channels.backlog",
            notification_id,
            notification.source,
            len(notification.firing),
            ", ".join(names[:MAX_NAMES]),
            rules.service_label,
            rules.area_label,
        )
        return Outcome("backlog", None, "no known service or area, and no backlog channel")
    labels = {**notification.common_labels, **notification.firing[0].labels}
    facts = {
        "channel": channel,
        "source": notification.source,
        "notification": notification_id,
        "names": names[:MAX_NAMES],
        "firing": len(notification.firing),
        "service": labels.get(rules.service_label),
        "area": labels.get(rules.area_label),
        "service_label": rules.service_label,
        "area_label": rules.area_label,
    }
    enqueue(session, [Message(BACKLOG_POST, f"alerts:backlog:{channel}", facts)], now=now)
    return Outcome("backlog", None, "no known service or area: told the backlog channel")
