"""A digest as JSON-ready facts and back: the outbox row of a review carries it.

The facts are read once, when the review's deadline fires, so a retried post tells the
same week the same way; the words are rendered from them when the post is sent.
Moments are ISO strings, durations seconds. A restricted incident's follow-up or
rollback answer is carried as `"restricted": true` with no text at all: the row is
read outside its private channel (by the sender, in a database dump).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.reviews.digest import (
    Digest,
    FollowUpFacts,
    IncidentFacts,
    RepeatService,
    RollbackFacts,
    Trend,
)
from bot.reviews.failures import failures_from_payload, failures_payload
from bot.reviews.week import parse_week


def _at(value: datetime) -> str:
    return value.isoformat()


def _from_at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _span(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _from_span(value: Any) -> timedelta | None:
    return None if value is None else timedelta(seconds=float(value))


def _rollback(r: RollbackFacts) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": r.service,
        "environment": r.environment,
        "from_version": r.from_version,
        "to_version": r.to_version,
        "state": r.state,
        "requested_by": r.requested_by,
        "requested_at": _at(r.requested_at),
        "incident": r.incident,
    }
    if r.restricted:
        data["restricted"] = True
    else:
        data["message"] = r.message
    return data


def _followup(f: FollowUpFacts) -> dict[str, Any]:
    data: dict[str, Any] = {
        "incident": f.incident,
        "owner": f.owner,
        "created_at": _at(f.created_at),
        "age": f.age.total_seconds(),
    }
    if f.restricted:
        data |= {"restricted": True, "service": f.service}
    else:
        data["text"] = f.text
    return data


def to_payload(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-ready data."""
    trend = digest.trend
    return {
        "week": digest.week.label,
        "zone": digest.zone,
        "start": _at(digest.start),
        "end": _at(digest.end),
        "now": _at(digest.now),
        "incidents": [
            {
                "ref": i.ref,
                "title": i.title,
                "severity": i.severity,
                "area": i.area,
                "service": i.service,
                "state": i.state,
                "declared_at": _at(i.declared_at),
                "acknowledged_by": i.acknowledged_by,
                "deadline_met": i.deadline_met,
                "missed_by": _span(i.missed_by),
            }
            for i in digest.incidents
        ],
        "by_severity": dict(digest.by_severity),
        "by_area": dict(digest.by_area),
        "repeats": [
            {"service": r.service, "refs": list(r.refs), "this_week": r.this_week}
            for r in digest.repeats
        ],
        "rollbacks": [_rollback(r) for r in digest.rollbacks],
        "followups": [_followup(f) for f in digest.followups],
        "trend": {
            "weeks": trend.weeks,
            "incidents": trend.incidents,
            "incidents_before": trend.incidents_before,
            "median_ack": _span(trend.median_ack),
            "median_ack_before": _span(trend.median_ack_before),
            "deadlines_met": trend.deadlines_met,
            "deadlines_met_before": trend.deadlines_met_before,
        },
        "failures": None if digest.failures is None else failures_payload(digest.failures),
    }


def from_payload(data: dict[str, Any]) -> Digest:
    """The digest `to_payload` wrote."""
    trend = data["trend"]
    return Digest(
        week=parse_week(str(data["week"])),
        zone=str(data["zone"]),
        start=_from_at(data["start"]),
        end=_from_at(data["end"]),
        now=_from_at(data["now"]),
        incidents=tuple(
            IncidentFacts(
                ref=i["ref"],
                title=i["title"],
                severity=i["severity"],
                area=i["area"],
                service=i["service"],
                state=i["state"],
                declared_at=_from_at(i["declared_at"]),
                acknowledged_by=i["acknowledged_by"],
                deadline_met=i["deadline_met"],
                missed_by=_from_span(i["missed_by"]),
            )
            for i in data["incidents"]
        ),
        by_severity={str(k): int(v) for k, v in data["by_severity"].items()},
        by_area={str(k): int(v) for k, v in data["by_area"].items()},
        repeats=tuple(
            RepeatService(r["service"], tuple(r["refs"]), int(r["this_week"]))
            for r in data["repeats"]
        ),
        rollbacks=tuple(
            RollbackFacts(
                service=r["service"],
                environment=r["environment"],
                from_version=r["from_version"],
                to_version=r["to_version"],
                state=r["state"],
                requested_by=r["requested_by"],
                requested_at=_from_at(r["requested_at"]),
                incident=r["incident"],
                message=str(r.get("message", "")),
                restricted=bool(r.get("restricted", False)),
            )
            for r in data["rollbacks"]
        ),
        followups=tuple(
            FollowUpFacts(
                incident=f["incident"],
                text=str(f.get("text", "")),
                owner=f["owner"],
                created_at=_from_at(f["created_at"]),
                age=timedelta(seconds=float(f["age"])),
                restricted=bool(f.get("restricted", False)),
                service=f.get("service"),
            )
            for f in data["followups"]
        ),
        trend=Trend(
            weeks=int(trend["weeks"]),
            incidents=int(trend["incidents"]),
            incidents_before=float(trend["incidents_before"]),
            median_ack=_from_span(trend["median_ack"]),
            median_ack_before=_from_span(trend["median_ack_before"]),
            deadlines_met=trend["deadlines_met"],
            deadlines_met_before=trend["deadlines_met_before"],
        ),
        failures=failures_from_payload(data.get("failures")),
    )
