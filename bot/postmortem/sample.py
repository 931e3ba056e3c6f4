"""A made-up incident that has a bit of everything, to render templates against.

`firebell check` renders a team's template overrides with it (`bot.postmortem.checks`),
so a template that prints any variable, or iterates any list, is exercised before a real
incident needs it: every list has items, the lists a Slack summary shows the first and
last of (timeline, status updates, paging) are long enough to leave some out, and every
value that may be `None` is set. It is built from rows in code, through the same
`postmortem_of` a real postmortem goes through, with the config's first area (and a
service of it), so names read as the team's. Pure: no database, no clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from bot.config.model import USER_ID, Config
from bot.postmortem.facts import Postmortem, Raci, postmortem_of
from bot.store.tables import FollowUp, Incident, Rollback, RunbookStep, TimelineEntry

DECLARED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
DEADLINE = DECLARED + 15 * MIN  # P0's 15m: missed, the responder acknowledges at +1h 40m
IMPACT_STARTED, IMPACT_ENDED = DECLARED - 8 * MIN, DECLARED + 120 * MIN
DECLARER, RESPONDER, LEAD, HELPER = "U0SAMPLE1", "U0SAMPLE2", "U0SAMPLE3", "U0SAMPLE4"
RUNBOOK = "sample-runbook"
STEPS = ("Acknowledge the page and say you are on it", "Compare the dashboard with last week")
ESCALATIONS = 6  # with the three pages at level 1, more rounds than a Slack summary shows
STATUS_UPDATES = 9  # more than a Slack summary shows (its first 2 and last 6)


def sample_postmortem(config: Config) -> Postmortem:
    """The postmortem of a resolved sample incident of the config's first area."""
    area_key, area_name, raci = _area(config)
    incident = Incident(
        id=1,
        number=42,
        title="Sample: answers quote <stale> prices & @channel sees it",
        description="Sample description: customers see prices from last week.",
        severity="P0",
        state="resolved",
        area=area_key,
        area_name=area_name,
        service=_service(config, area_key),
        declared_by=DECLARER,
        declared_at=DECLARED,
        lead=LEAD,
        acknowledged_by=RESPONDER,
        acknowledged_at=DECLARED + 100 * MIN,
        mitigated_at=DECLARED + 120 * MIN,
        resolved_by=LEAD,
        resolved_at=DECLARED + 150 * MIN,
        summary="Sample summary: a prompt change quoted stale prices; rolled back.",
        response_deadline=DEADLINE,
        escalation_level=1 + ESCALATIONS,
        impact_started_at=IMPACT_STARTED,
        impact_ended_at=IMPACT_ENDED,
        detected_at=DECLARED,
        channel_name="inc-42-sample-answers-quote-stale-prices",
        channel_id="C0SAMPLE",
    )
    pm = postmortem_of(
        incident,
        config,
        entries=_timeline(config, incident, raci),
        rollbacks=[_rollback(incident)],
        ticked=[
            RunbookStep(incident_id=1, runbook=RUNBOOK, step=f"s{i}", ticked=True, by=HELPER, at=at)
            for i, at in enumerate((DECLARED + 104 * MIN, DECLARED + 105 * MIN))
        ],
        followups=_followups(),
        now=DECLARED + 160 * MIN,
    )
    # The sample's RACI row has someone in every role, whatever the config's area has.
    return replace(pm, raci=raci)


def _area(config: Config) -> tuple[str, str, Raci]:
    """The config's first area, with a RACI row that has every role filled."""
    for key, row in config.areas.items():
        consulted = tuple(row.consulted) or (row.responsible,)
        informed = tuple(row.informed) or (row.accountable,)
        return key, row.name, Raci(row.responsible, row.accountable, consulted, informed)
    return "sample", "Sample area", Raci("sample-team", LEAD, (HELPER,), (DECLARER,))


def _service(config: Config, area: str) -> str:
    of_area = [name for name, service in config.services.items() if service.area == area]
    return next(iter(of_area or config.services), "sample-service")


def _team(ref: str) -> str | None:
    """The team a RACI entry names, None if it names a person."""
    return None if USER_ID.match(ref) else ref


def _timeline(config: Config, incident: Incident, raci: Raci) -> list[TimelineEntry]:
    """Every kind of entry a postmortem reads, in order."""
    ids = count(1)
    entries: list[TimelineEntry] = []

    def add(minutes: int, actor: str, kind: str, **data: Any) -> None:
        at = DECLARED + minutes * MIN
        entries.append(
            TimelineEntry(id=next(ids), incident_id=1, at=at, actor=actor, kind=kind, data=data)
        )

    def page(user: str, role: str, team: str | None) -> dict[str, Any]:
        return {"user": user, "role": role, "team": team}

    responsible = page(RESPONDER, "responsible", _team(raci.responsible))
    accountable = page(LEAD, "accountable", None)
    add(0, DECLARER, "declared", severity="P1", title=incident.title)
    declared = {"cause": "declared", "by": DECLARER}
    add(0, DECLARER, "paged", pages=[responsible, accountable], step=1, reason=declared)
    add(3, RESPONDER, "severity_changed", **{"from": "P1", "to": "P0"})
    consulted = page(HELPER, "consulted", _team(raci.consulted[0]))
    severity = {"cause": "severity", "by": RESPONDER, "severity": "P0"}
    add(3, RESPONDER, "paged", pages=[consulted], step=1, reason=severity)
    add(
        5,
        LEAD,
        "paged",
        pages=[page(HELPER, "paged", None)],
        step=1,
        reason={"cause": "page", "by": LEAD},
    )
    levels = config.escalation.levels
    for step in range(2, 2 + ESCALATIONS):
        level = levels[min(step - 1, len(levels) - 1)]
        pages = [accountable if step == 2 else responsible]
        why = {"cause": "unacknowledged", "by": "firebell"}
        minutes = 15 * (step - 1)
        add(minutes, "firebell", "paged", pages=pages, step=step, reason=why)
        add(
            minutes,
            "firebell",
            "escalated",
            step=step,
            level=level,
            cause=why["cause"],
            pages=pages,
        )
    add(100, RESPONDER, "acknowledged", deadline=DEADLINE.isoformat())
    add(101, RESPONDER, "lead_set", lead=LEAD)
    add(102, LEAD, "note", text="Sample note: the price cache was warmed at 09:50")
    add(103, RESPONDER, "runbook_shown", runbook=RUNBOOK)
    for i, text in enumerate(STEPS):
        add(104 + i, HELPER, "runbook_step", runbook=RUNBOOK, step=f"s{i}", text=text, ticked=True)
    for i in range(STATUS_UPDATES):
        add(106 + i, LEAD, "status", text=f"Sample status update {i + 1}: still <looking> & @here")
    rollback = {
        "rollback": 1,
        "service": incident.service,
        "environment": "production",
        "from_version": "v2.4.1",
        "to_version": "v2.4.0",
    }
    add(115, RESPONDER, "rollback_started", reason="Sample: wrong prices since v2.4.1", **rollback)
    outcome = {"succeeded": True, "status_code": 200, "duration_ms": 4100, "dry_run": False}
    add(115, "firebell", "rollback_finished", message="rolled back", **outcome, **rollback)
    add(
        118,
        HELPER,
        "pinned",
        channel="C0SAMPLE",
        ts="1772449000.000100",
        text="Sample pin: error rate back under 1%",
        author=RESPONDER,
        posted_at=(DECLARED + 117 * MIN).isoformat(),
        permalink="https://example.slack.com/archives/C0SAMPLE/p1772449000000100",
    )
    add(119, LEAD, "impact_set", edge="start", at=IMPACT_STARTED.isoformat())
    add(120, LEAD, "mitigated")
    add(120, LEAD, "impact_set", edge="end", at=IMPACT_ENDED.isoformat())
    for number, followup in enumerate(_followups(), 1):
        add(121, LEAD, "followup_added", followup=number, text=followup.text, owner=followup.owner)
    first = _followups()[0]
    add(125, HELPER, "followup_done", followup=1, text=first.text, owner=first.owner)
    add(150, LEAD, "resolved", summary=incident.summary)
    return entries


def _rollback(incident: Incident) -> Rollback:
    return Rollback(
        id=1,
        incident_id=1,
        service=incident.service or "sample-service",
        environment="production",
        from_version="v2.4.1",
        to_version="v2.4.0",
        requested_by=RESPONDER,
        reason="Sample: wrong prices since v2.4.1",
        webhook_id="msg_sample",
        state="succeeded",
        requested_at=DECLARED + 115 * MIN,
        finished_at=DECLARED + 115 * MIN + timedelta(seconds=4),
        status_code=200,
        duration_ms=4100,
        message="rolled back",
    )


def _followups() -> list[FollowUp]:
    """One follow-up done, one open."""
    return [
        FollowUp(
            id=1,
            incident_id=1,
            text="Sample follow-up: gate prompt changes on the price eval",
            owner=HELPER,
            state="done",
            created_by=LEAD,
            created_at=DECLARED + 121 * MIN,
            done_by=HELPER,
            done_at=DECLARED + 125 * MIN,
        ),
        FollowUp(
            id=2,
            incident_id=1,
            text="Sample follow-up: alert on price mismatches | within 5 minutes",
            owner=LEAD,
            created_by=LEAD,
            created_at=DECLARED + 121 * MIN,
        ),
    ]
