"""Ingesting alert notifications: grouping, dedup, attaching, resolution, storms."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import Session, col

from bot.config.model import Channels, Config
from bot.incidents.acknowledge import acknowledge
from bot.incidents.alert_changes import lock_open
from bot.incidents.declare import Declaration, declare
from bot.incidents.lifecycle import resolve
from bot.integrations.model import AlertFacts, Notification, Status
from bot.store.db import Store
from bot.store.tables import Alert, AlertGroup, AlertNotification, Incident, OutboxMessage
from tests.usecases.conftest import START, ManualClock
from tests.usecases.steps import (
    data_of,
    entries,
    incident,
    ingest_stored,
    kinds,
    paged_users,
    queued,
    together,
)

SERVICE = "checkout-assistant"


def _alert(
    fingerprint: str,
    status: Status = "firing",
    *,
    name: str = "ModelEvalScoreDrop",
    starts: datetime = START,
    summary: str | None = None,
    **labels: str,
) -> AlertFacts:
    return AlertFacts(
        fingerprint=fingerprint,
        status=status,
        labels={"alertname": name, **labels},
        annotations={} if summary is None else {"summary": summary},
        starts_at=starts,
        ends_at=None if status == "firing" else starts + timedelta(minutes=5),
        generator_url=f"https://prometheus.example.com/graph?g0.expr={name}",
    )


def _notification(group: str, *alerts: AlertFacts) -> Notification:
    firing = any(a.status == "firing" for a in alerts)
    return Notification(
        source="alertmanager",
        group_key=group,
        status="firing" if firing else "resolved",
        alerts=alerts,
    )


def _ingest(db: Store, config: Config, notification: Notification) -> AlertNotification:
    """Store the notification as the HTTP edge does, ingest it in the same transaction."""
    return ingest_stored(db, config, notification)


def _rows(db: Store, model: type[Alert] | type[AlertGroup] | type[Incident]) -> list[object]:
    return list(db.call(lambda s: list(s.execute(select(model)).scalars())))


def _alerts(db: Store, incident_id: int) -> dict[str, Alert]:
    def read(session: Session) -> dict[str, Alert]:
        rows = session.execute(select(Alert).where(col(Alert.incident_id) == incident_id))
        return {a.fingerprint: a for a in rows.scalars()}

    return db.call(read)


def _with(config: Config, **rules: object) -> Config:
    alerts = config.alerts.model_copy(update=rules)
    return config.model_copy(update={"alerts": alerts})


def _model(fingerprint: str, status: Status = "firing", **kw: object) -> AlertFacts:
    return _alert(fingerprint, status, service=SERVICE, severity="critical", **kw)  # type: ignore[arg-type]


def test_a_new_group_opens_an_incident_that_pages_before_its_channel_chores(
    db: Store, config: Config
) -> None:
    """An alert group opens a P1 of its service: origin, times, group, alerts, pages first."""
    earlier = START - timedelta(minutes=7)
    row = _ingest(db, config, _notification("g1", _model("a"), _model("b", starts=earlier)))
    assert (row.outcome, row.incident_id is not None) == ("opened", True)
    assert row.incident_id is not None
    opened = incident(db, row.incident_id)
    assert (opened.origin, opened.service, opened.severity, opened.area) == (
        "alert",
        SERVICE,
        "P1",
        "model",
    )
    assert (opened.detected_at, opened.impact_started_at) == (START, earlier)
    assert opened.title == f"ModelEvalScoreDrop on {SERVICE}"
    assert sorted(_alerts(db, row.incident_id)) == ["a", "b"]
    groups = [g for g in _rows(db, AlertGroup) if isinstance(g, AlertGroup)]
    assert [(g.opened, g.incident_id) for g in groups] == [(True, row.incident_id)]
    assert paged_users(db, row.incident_id) == ["U01ML1", "U01MLLEAD"]
    rows = queued(db, row.incident_id)
    first_chore = min(r.id or 0 for r in rows if r.kind == "open_channel")
    assert all((r.id or 0) < first_chore for r in rows if r.kind == "page")
    assert "invite" in [r.kind for r in rows]
    invited = next(r for r in rows if r.kind == "invite").payload["users"]
    assert "firebell" not in invited


def test_the_same_notification_twice_changes_nothing(db: Store, config: Config) -> None:
    """A repeat adds no alert, no timeline entry and queues nothing."""
    notification = _notification("g1", _model("a"))
    first = _ingest(db, config, notification)
    assert first.incident_id is not None
    before = (kinds(db, first.incident_id), len(queued(db, first.incident_id)))
    again = _ingest(db, config, notification)
    assert (again.outcome, again.incident_id) == ("repeated", first.incident_id)
    assert (kinds(db, first.incident_id), len(queued(db, first.incident_id))) == before
    assert len(_rows(db, Incident)) == 1


def test_a_new_alert_of_the_group_joins_its_incident_and_refreshes_it(
    db: Store, config: Config
) -> None:
    """A further notification with a new fingerprint adds it: one entry, one refresh."""
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    refreshes = len(queued(db, first.incident_id, "refresh"))
    second = _ingest(db, config, _notification("g1", _model("a"), _model("b", name="Other")))
    assert (second.outcome, second.incident_id) == ("attached", first.incident_id)
    added = data_of(db, first.incident_id, "alerts_added")[-1]
    assert [a["fingerprint"] for a in added["alerts"]] == ["b"]
    assert added["joined"] is False
    assert len(queued(db, first.incident_id, "refresh")) == refreshes + 1
    assert len(_rows(db, Incident)) == 1


def test_a_new_group_of_a_service_with_an_open_incident_attaches_to_it(
    db: Store, config: Config
) -> None:
    """A person's open incident of the service takes the service's new alert groups."""
    declaration = Declaration(
        title="Checkout is slow", severity="P2", declared_by="U0OTHER", service=SERVICE
    )
    declared = db.call(declare, config, declaration).incident
    row = _ingest(db, config, _notification("g1", _model("a")))
    assert (row.outcome, row.incident_id) == ("attached", declared.id)
    assert len(_rows(db, Incident)) == 1
    apart = _ingest(db, _with(config, attach_to_open=False), _notification("g2", _model("z")))
    assert apart.outcome == "opened"
    assert apart.incident_id != declared.id


def test_resolved_alerts_are_counted_and_the_last_one_mitigates_with_auto_mitigate(
    db: Store, config: Config
) -> None:
    """One of two resolved: counted, not posted; both: posted, and (acknowledged)
    mitigated."""
    config = _with(config, auto_mitigate=True)
    first = _ingest(db, config, _notification("g1", _model("a"), _model("b")))
    assert first.incident_id is not None
    iid = first.incident_id
    db.call(acknowledge, config, incident_id=iid, actor="U01ML1")
    _ingest(db, config, _notification("g1", _model("a", "resolved"), _model("b")))
    assert _alerts(db, iid)["a"].status == "resolved"
    assert _alerts(db, iid)["a"].resolved_at == START
    assert data_of(db, iid, "alerts_resolved")[-1]["firing"] == 1
    assert incident(db, iid).state == "acknowledged"
    _ingest(db, config, _notification("g1", _model("a", "resolved"), _model("b", "resolved")))
    resolved = data_of(db, iid, "alerts_resolved")
    assert [(d["firing"], d["total"]) for d in resolved] == [(1, 2), (0, 2)]
    told = [e.id for e in entries(db, iid) if e.kind == "alerts_resolved"]
    posted = {r.payload.get("entry") for r in queued(db, iid, "channel_post")}
    assert (told[0] in posted, told[1] in posted) == (False, True)
    assert incident(db, iid).state == "mitigated"
    assert incident(db, iid).resolved_at is None  # never resolved by alerts


def test_an_unacknowledged_incident_is_not_mitigated_by_its_alerts(
    db: Store, config: Config
) -> None:
    """Nobody looked: all alerts resolved is told, and the incident stays open."""
    config = _with(config, auto_mitigate=True)
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    _ingest(db, config, _notification("g1", _model("a", "resolved")))
    told = data_of(db, first.incident_id, "alerts_resolved")[-1]
    assert (told["mitigating"], told["unacknowledged"]) == (False, True)
    assert incident(db, first.incident_id).state == "open"


def test_auto_mitigate_always_mitigates_an_unacknowledged_incident_too(
    db: Store, config: Config
) -> None:
    """`always`: all alerts resolved mitigates the incident nobody acknowledged, as firebell."""
    config = _with(config, auto_mitigate="always")
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    _ingest(db, config, _notification("g1", _model("a", "resolved")))
    assert data_of(db, first.incident_id, "alerts_resolved")[-1]["mitigating"] is True
    mitigated = incident(db, first.incident_id)
    assert (mitigated.state, mitigated.acknowledged_by) == ("mitigated", "firebell")
    assert mitigated.resolved_at is None


def test_without_auto_mitigate_all_resolved_is_told_but_the_state_stays(
    db: Store, config: Config
) -> None:
    """The channel is told; the incident stays open for a person to decide."""
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    _ingest(db, config, _notification("g1", _model("a", "resolved")))
    assert data_of(db, first.incident_id, "alerts_resolved")[-1]["mitigating"] is False
    assert incident(db, first.incident_id).state == "open"


def test_a_resolved_alert_that_fires_again_reopens_the_alert_not_a_new_incident(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """A new `startsAt` after resolution: `fired` 2, an `alert_refired` entry."""
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    _ingest(db, config, _notification("g1", _model("a", "resolved")))
    stale = _ingest(db, config, _notification("g1", _model("a")))
    assert stale.outcome == "repeated"  # an older word of the same firing
    later = clock.advance(timedelta(minutes=10))
    again = _ingest(db, config, _notification("g1", _model("a", starts=later)))
    assert (again.outcome, again.incident_id) == ("attached", first.incident_id)
    alert = _alerts(db, first.incident_id)["a"]
    assert (alert.status, alert.fired, alert.resolved_at) == ("firing", 2, None)
    assert data_of(db, first.incident_id, "alert_refired") == [
        {"name": "ModelEvalScoreDrop", "fingerprint": "a", "fired": 2}
    ]
    assert len(_rows(db, Incident)) == 1


def test_a_group_whose_incident_is_resolved_opens_a_new_incident(db: Store, config: Config) -> None:
    """Once a person resolves the incident, the group's next firing opens another."""
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    db.call(resolve, config, incident_id=first.incident_id, actor="U01ML1")
    again = _ingest(db, config, _notification("g1", _model("a")))
    assert again.outcome == "opened"
    assert again.incident_id not in (None, first.incident_id)


def test_resolved_alerts_of_a_group_without_an_open_incident_are_ignored(
    db: Store, config: Config
) -> None:
    """Nothing is opened for alerts that have all resolved; the reason says so."""
    row = _ingest(db, config, _notification("g9", _model("a", "resolved")))
    assert (row.outcome, row.incident_id) == ("ignored", None)
    assert "resolved" in row.reason
    assert _rows(db, Incident) == []


def test_unrouted_alerts_are_told_in_the_backlog_channel(db: Store, config: Config) -> None:
    """No known service or area: a backlog post with the names, no incident."""
    row = _ingest(db, config, _notification("g1", _alert("a", service="nope")))
    assert (row.outcome, row.incident_id) == ("backlog", None)
    posts = db.call(
        lambda s: list(
            s.execute(
                select(OutboxMessage).where(col(OutboxMessage.kind) == "alert_backlog")
            ).scalars()
        )
    )
    assert [(p.payload["channel"], p.payload["names"], p.payload["service"]) for p in posts] == [
        ("C0BACKLOG", ["ModelEvalScoreDrop"], "nope")
    ]
    assert _rows(db, Incident) == []


def test_unrouted_alerts_without_a_backlog_channel_log_one_warning(
    db: Store, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """Never silently dropped: with nowhere to post, one WARNING says what arrived."""
    bare = config.model_copy(update={"channels": Channels(announcements="C0ANNOUNCE")})
    with caplog.at_level(logging.WARNING, logger="bot.incidents.alerts"):
        row = _ingest(db, bare, _notification("g1", _alert("a")))
    assert row.outcome == "backlog"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ModelEvalScoreDrop" in warnings[0].getMessage()


def test_groups_beyond_the_storm_budget_join_one_storm_incident_paging_each_area_once(
    db: Store, config: Config
) -> None:
    """Budget 2: two incidents, then one storm incident; each area's Responsible is paged
    once; the storm takes the highest severity and counts its groups in its title."""
    config = _with(config, max_new_incidents_per_minute=2)
    groups = [
        ("g1", "infra", "warning"),
        ("g2", "data", "warning"),
        ("g3", "infra", "warning"),
        ("g4", "ux", "error"),
        ("g5", "infra", "warning"),
    ]
    rows = [
        _ingest(db, config, _notification(g, _alert(f"{g}-a", area=area, severity=severity)))
        for g, area, severity in groups
    ]
    assert [r.outcome for r in rows] == ["opened", "opened", "storm", "storm", "storm"]
    storm_ids = {r.incident_id for r in rows[2:]}
    assert len(storm_ids) == 1
    storm_id = storm_ids.pop()
    assert storm_id is not None
    storm = incident(db, storm_id)
    assert (storm.origin, storm.severity, storm.area) == ("storm", "P2", "infra")
    assert storm.title == "Alert storm: 3 groups from 2 areas"
    assert storm.channel_name == f"inc-{storm.number}-alert-storm"
    assert sorted(paged_users(db, storm_id)) == ["U01PL1", "U01PR1"]
    assert len(data_of(db, storm_id, "storm_group")) == 3
    more = _ingest(db, config, _notification("g3", _alert("g3-b", area="infra")))
    assert (more.outcome, more.incident_id) == ("storm", storm_id)


def test_the_budget_frees_up_after_a_minute(db: Store, config: Config, clock: ManualClock) -> None:
    """A minute after the budget was spent, a new group opens its own incident again."""
    config = _with(config, max_new_incidents_per_minute=1)
    assert _ingest(db, config, _notification("g1", _alert("a", area="infra"))).outcome == "opened"
    assert _ingest(db, config, _notification("g2", _alert("b", area="data"))).outcome == "storm"
    clock.advance(timedelta(seconds=61))
    assert _ingest(db, config, _notification("g3", _alert("c", area="ux"))).outcome == "opened"


def test_two_notifications_of_a_new_group_at_once_open_one_incident(
    db: Store, config: Config
) -> None:
    """Serialised on the group: the second finds the first's incident and attaches."""
    outcomes: list[AlertNotification] = []

    def deliver(fingerprint: str) -> None:
        outcomes.append(_ingest(db, config, _notification("g1", _model(fingerprint))))

    together(lambda: deliver("a"), lambda: deliver("b"))
    assert sorted(r.outcome for r in outcomes) == ["attached", "opened"]
    assert len({r.incident_id for r in outcomes}) == 1
    assert len(_rows(db, Incident)) == 1
    assert len(_rows(db, AlertGroup)) == 1


def test_two_new_groups_of_one_service_at_once_open_one_incident(db: Store, config: Config) -> None:
    """Serialised on the service: the second group attaches to the first's incident."""
    outcomes: list[AlertNotification] = []

    def deliver(group: str) -> None:
        outcomes.append(_ingest(db, config, _notification(group, _model(f"{group}-a"))))

    together(lambda: deliver("g1"), lambda: deliver("g2"))
    assert sorted(r.outcome for r in outcomes) == ["attached", "opened"]
    assert len(_rows(db, Incident)) == 1


def test_a_more_severe_group_joining_a_service_incident_raises_its_severity_and_pages(
    db: Store, config: Config
) -> None:
    """A P0 group attaching to the service's P3 incident makes it P0, paging whom P0 adds."""
    first = _ingest(
        db, config, _notification("g1", _alert("a", service=SERVICE, severity="warning"))
    )
    assert first.incident_id is not None
    assert incident(db, first.incident_id).severity == "P3"
    before = paged_users(db, first.incident_id)
    more = _ingest(
        db, config, _notification("g2", _alert("b", service=SERVICE, firebell_severity="P0"))
    )
    assert (more.outcome, more.incident_id) == ("attached", first.incident_id)
    assert incident(db, first.incident_id).severity == "P0"
    assert data_of(db, first.incident_id, "severity_changed") == [{"from": "P3", "to": "P0"}]
    assert len(paged_users(db, first.incident_id)) > len(before)


def test_a_more_severe_new_alert_of_the_group_raises_its_incident_severity(
    db: Store, config: Config
) -> None:
    """A new P1 alert in the group of a P3 incident makes it P1."""
    warning = _alert("a", service=SERVICE, severity="warning")
    first = _ingest(db, config, _notification("g1", warning))
    assert first.incident_id is not None
    critical = _alert("c", service=SERVICE, severity="critical")
    assert _ingest(db, config, _notification("g1", warning, critical)).outcome == "attached"
    assert incident(db, first.incident_id).severity == "P1"


def test_a_less_severe_alert_joining_never_lowers_the_severity(db: Store, config: Config) -> None:
    """A P3 alert joining a P1 incident leaves it P1, with no severity change recorded."""
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    low = _alert("b", service=SERVICE, severity="warning")
    assert _ingest(db, config, _notification("g2", low)).outcome == "attached"
    lower = _alert("d", service=SERVICE, severity="warning")
    assert _ingest(db, config, _notification("g1", _model("a"), lower)).outcome == "attached"
    assert incident(db, first.incident_id).severity == "P1"
    assert data_of(db, first.incident_id, "severity_changed") == []


def test_the_storm_incident_has_no_service_and_takes_no_group_by_attaching(
    db: Store, config: Config
) -> None:
    """The storm spans areas: a service's later groups join it as storm groups, counted."""
    config = _with(config, max_new_incidents_per_minute=1)
    assert _ingest(db, config, _notification("g1", _alert("a", area="infra"))).outcome == "opened"
    storm = _ingest(db, config, _notification("g2", _model("b")))
    assert storm.outcome == "storm"
    assert storm.incident_id is not None
    assert incident(db, storm.incident_id).service is None
    later = _ingest(db, config, _notification("g3", _model("c", name="Other")))
    assert (later.outcome, later.incident_id) == ("storm", storm.incident_id)
    assert len(data_of(db, storm.incident_id, "storm_group")) == 2
    assert incident(db, storm.incident_id).title == "Alert storm: 2 groups from 1 service"


def test_openings_stamped_after_a_waiting_ingest_s_now_count_against_the_budget(
    db: Store, config: Config, clock: ManualClock
) -> None:
    """An ingest whose time was read before others opened incidents still sees them all."""
    config = _with(config, max_new_incidents_per_minute=2)
    clock.at = START + timedelta(seconds=1)
    assert _ingest(db, config, _notification("g1", _alert("a", area="infra"))).outcome == "opened"
    assert _ingest(db, config, _notification("g2", _alert("b", area="data"))).outcome == "opened"
    clock.at = START  # read its time a second earlier, then waited for the storm lock
    assert _ingest(db, config, _notification("g3", _alert("c", area="ux"))).outcome == "storm"


def test_finding_an_incident_resolved_leaves_no_lock_on_its_row(db: Store, config: Config) -> None:
    """`lock_open` on a resolved incident releases the row lock it took (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time and no row locks")
    first = _ingest(db, config, _notification("g1", _model("a")))
    assert first.incident_id is not None
    db.call(resolve, config, incident_id=first.incident_id, actor="U01ML1")
    with db.transaction() as session:
        assert lock_open(session, first.incident_id) is None
        with db.engine.connect() as other:
            statement = text("SELECT id FROM incident WHERE id = :id FOR UPDATE NOWAIT")
            assert (
                other.execute(statement, {"id": first.incident_id}).scalar_one()
                == first.incident_id
            )
            other.rollback()
