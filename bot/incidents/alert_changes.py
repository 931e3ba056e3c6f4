"""What one alert notification changes in an incident: its alerts, its timeline, its
main message, and (all alerts resolved) perhaps its state.

An alert's identity is its source and `fingerprint` within the incident. A notification
is compared with the stored alerts:

- an alert not stored yet is **added** (firing, or already resolved when the group's
  first word of it says so);
- a firing alert now resolved is **resolved** (`status`, `resolved_at`, `ends_at`);
- a resolved alert firing again with another `startsAt` **fired again** (`fired` + 1);
  one with the same `startsAt` is an older word of the same firing, and changes nothing;
- anything else is a **repeat**: only `last_seen_at` moves.

Each notification that changed something adds one timeline entry per kind of change
(`alerts_added`, `alerts_resolved`, one `alert_refired` per alert) and refreshes the
messages showing the incident; a repeat adds nothing and refreshes nothing. When the
last firing alert of the incident resolves, the channel is told, and with
`alerts.auto_mitigate` an acknowledged incident becomes mitigated (one nobody has
acknowledged stays open, as alerts also resolve when what they watch goes silent,
unless it is `always`). firebell
never resolves an
incident by itself: a person closes it, and the postmortem needs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.core.alert_routing import Route, severity_of, storable
from bot.core.states import State
from bot.incidents import queue
from bot.incidents.changes import id_of, open_for_change
from bot.incidents.declare import Declaration, declare
from bot.incidents.errors import IncidentClosedError
from bot.incidents.lifecycle import change_severity, mitigate
from bot.incidents.records import record
from bot.integrations.model import AlertFacts, Notification
from bot.store.alerts import firing_count
from bot.store.tables import Alert, AlertGroup, Incident

ACTOR = "firebell"  # who alerts act as
MAX_LISTED = 100  # alerts named in one timeline entry; the rest are counted
MAX_NAME = 200  # `Alert.name` and `Alert.fingerprint` columns


@dataclass(frozen=True)
class Outcome:
    """What a notification did: `opened|attached|storm|repeated|backlog|ignored`, the
    incident it went to, and why (for `firebell alerts`)."""

    outcome: str
    incident_id: int | None
    reason: str


@dataclass
class Changes:
    """The alerts one notification changed in an incident."""

    added: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    refired: list[Alert] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.resolved or self.refired)

    def said(self) -> str:
        """`2 new, 1 resolved`: what changed, for a notification's reason."""
        parts = [
            f"{len(alerts)} {what}"
            for alerts, what in (
                (self.added, "new"),
                (self.resolved, "resolved"),
                (self.refired, "firing again"),
            )
            if alerts
        ]
        return ", ".join(parts)


def distinct_alerts(notification: Notification) -> list[AlertFacts]:
    """The notification's alerts, one per fingerprint (the last word on each wins)."""
    return list({a.fingerprint: a for a in notification.alerts}.values())


def lock_open(session: Session, incident_id: int) -> Incident | None:
    """Lock the incident for a change; None when it was resolved meanwhile.

    The row lock is taken in a savepoint that is rolled back when the incident is
    resolved, so no lock on an incident row is held by a caller that goes on to take
    the service or storm lock (the order is group, service, storm, incident rows).
    """
    savepoint = session.begin_nested()
    try:
        incident, _ = open_for_change(session, incident_id)
    except IncidentClosedError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return incident


def raise_severity(
    session: Session,
    config: Config,
    incident: Incident,
    notification: Notification,
    changes: Changes,
) -> None:
    """Raise the (locked, open) incident to the highest severity of the alerts that the
    notification added or made fire again, when that is higher (P0 is the highest),
    paging whoever the new level adds (`change_severity`). Never lowers it."""
    rising = [a for a in (*changes.added, *changes.refired) if a.status == "firing"]
    if not rising or incident.state == "resolved":
        return
    common = notification.common_labels
    highest = min(severity_of(config, {**common, **a.labels}) for a in rising)
    if highest < incident.severity:  # P0 sorts first
        iid = id_of(incident)
        change_severity(session, config, incident_id=iid, actor=ACTOR, severity=highest)


def open_from_alerts(
    session: Session,
    config: Config,
    route: Route,
    alerts: Sequence[AlertFacts],
    *,
    origin: str,
    now: datetime,
    title: str | None = None,
    restricted: bool = False,
) -> Incident:
    """Declare an incident for alerts, as a person would (pages, channel, deadlines):
    detected now, its impact started at the earliest `startsAt`; `restricted` whatever
    its service (see `Declaration.restricted`)."""
    starts = [a.starts_at for a in alerts if a.starts_at is not None]
    declaration = Declaration(
        title=title or route.title,
        severity=route.severity,
        declared_by=ACTOR,
        service=route.service,
        area=route.area,
        description=route.description,
        detected_at=now,
        impact_started_at=min(starts, default=None),
        origin=origin,
        restricted=restricted,
    )
    return declare(session, config, declaration).incident


def add_group(
    session: Session,
    incident: Incident,
    notification: Notification,
    *,
    key_hash: str,
    opened: bool,
    now: datetime,
) -> AlertGroup:
    """Record that the notification's group goes to `incident` while it is open."""
    group = AlertGroup(
        source=notification.source,
        group_key=notification.group_key,
        key_hash=key_hash,
        incident_id=id_of(incident),
        opened=opened,
        created_at=now,
    )
    session.add(group)
    session.flush()
    return group


def apply_alerts(
    session: Session,
    incident: Incident,
    group: AlertGroup,
    alerts: Sequence[AlertFacts],
    *,
    now: datetime,
) -> Changes:
    """Compare the notification's alerts with the incident's and store the difference."""
    stored = _stored(session, incident, group.source, [_fingerprint(a) for a in alerts])
    changes = Changes()
    for alert in alerts:
        row = stored.get(_fingerprint(alert))
        if row is None:
            changes.added.append(_insert(session, incident, group, alert, now=now))
            continue
        row.last_seen_at = now
        if row.status == "firing" and alert.status == "resolved" and not _older(alert, row):
            row.status, row.resolved_at, row.ends_at = "resolved", now, alert.ends_at or now
            changes.resolved.append(row)
        elif row.status == "resolved" and alert.status == "firing" and _fires_anew(alert, row):
            row.status, row.resolved_at, row.ends_at = "firing", None, None
            row.starts_at = alert.starts_at
            row.fired += 1
            changes.refired.append(row)
        session.add(row)
    session.flush()
    return changes


def tell_changes(
    session: Session,
    config: Config,
    incident: Incident,
    group: AlertGroup,
    changes: Changes,
    *,
    joined: bool,
    post_added: bool,
    now: datetime,
) -> None:
    """The timeline entries of what changed, a refresh of the incident's messages, and
    what follows when its last firing alert resolved."""
    if changes.added:
        record(
            session,
            incident,
            "alerts_added",
            at=now,
            actor=ACTOR,
            post=post_added,
            source=group.source,
            group=group.group_key,
            joined=joined,
            **listed(changes.added),
        )
    for row in changes.refired:
        record(
            session,
            incident,
            "alert_refired",
            at=now,
            actor=ACTOR,
            post=True,
            name=row.name,
            fingerprint=row.fingerprint,
            fired=row.fired,
        )
    queue.refresh(session, incident, now=now)
    if changes.resolved:
        _resolved(session, config, incident, changes.resolved, now=now)


def listed(alerts: Sequence[Alert]) -> dict[str, Any]:
    """Alerts as timeline facts: names and fingerprints, the first `MAX_LISTED` of them."""
    shown = [{"name": a.name, "fingerprint": a.fingerprint, "status": a.status} for a in alerts]
    return {"alerts": shown[:MAX_LISTED], "count": len(alerts)}


def _resolved(
    session: Session, config: Config, incident: Incident, resolved: list[Alert], *, now: datetime
) -> None:
    iid = id_of(incident)
    left = firing_count(session, incident_id=iid)
    total = session.execute(
        select(func.count()).select_from(Alert).where(col(Alert.incident_id) == iid)
    ).scalar_one()
    facts = {"firing": left, "total": int(total), **listed(resolved)}
    all_resolved = left == 0
    # Only an acknowledged incident is mitigated by its alerts: alerts also resolve when
    # what they watch stops reporting, so one nobody has looked at stays open (and keeps
    # escalating) until a person acknowledges it.
    # (`auto_mitigate: always` mitigates those too, as acknowledged by firebell.)
    auto = config.alerts.auto_mitigate
    state = State(incident.state)
    mitigating = all_resolved and (
        (auto is True and state == State.ACKNOWLEDGED)
        or (auto == "always" and state in (State.OPEN, State.ACKNOWLEDGED))
    )
    unacknowledged = all_resolved and auto is True and state == State.OPEN
    record(
        session,
        incident,
        "alerts_resolved",
        at=now,
        actor=ACTOR,
        post=all_resolved,
        mitigating=mitigating,
        unacknowledged=unacknowledged,
        **facts,
    )
    if mitigating:
        mitigate(session, config, incident_id=iid, actor=ACTOR)


def _stored(
    session: Session, incident: Incident, source: str, fingerprints: list[str]
) -> dict[str, Alert]:
    rows = session.execute(
        select(Alert).where(
            col(Alert.incident_id) == id_of(incident),
            col(Alert.source) == source,
            col(Alert.fingerprint).in_(fingerprints),
        )
    ).scalars()
    return {row.fingerprint: row for row in rows}


def _insert(
    session: Session, incident: Incident, group: AlertGroup, alert: AlertFacts, *, now: datetime
) -> Alert:
    resolved = alert.status == "resolved"
    row = Alert(
        incident_id=id_of(incident),
        group_id=group.id,
        source=group.source,
        fingerprint=_fingerprint(alert),
        name=storable(alert.name, MAX_NAME) or "alert",
        status=alert.status,
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        starts_at=alert.starts_at,
        ends_at=(alert.ends_at or now) if resolved else alert.ends_at,
        generator_url=alert.generator_url,
        first_seen_at=now,
        last_seen_at=now,
        resolved_at=now if resolved else None,
    )
    session.add(row)
    return row


def _fingerprint(alert: AlertFacts) -> str:
    """The alert's fingerprint as stored: a longer one than the column holds is hashed."""
    if len(alert.fingerprint) <= MAX_NAME:
        return alert.fingerprint
    return "sha256:" + hashlib.sha256(alert.fingerprint.encode()).hexdigest()


def _older(alert: AlertFacts, row: Alert) -> bool:
    """Whether the word on `alert` is about an earlier firing than the stored one."""
    return bool(alert.starts_at and row.starts_at and alert.starts_at < row.starts_at)


def _fires_anew(alert: AlertFacts, row: Alert) -> bool:
    """Whether a firing word on a resolved alert is a new firing, not an old word."""
    return alert.starts_at is None or row.starts_at is None or alert.starts_at > row.starts_at
