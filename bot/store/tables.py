"""Every table firebell keeps, in one place.

JSON columns are replaced, never mutated in place (SQLAlchemy does not track in-place
changes of a plain JSON column).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime

_PENDING_SQLITE = text("fired_at IS NULL AND cancelled = 0")
_PENDING_POSTGRESQL = text("fired_at IS NULL AND cancelled = false")


def _json_column() -> Any:
    return Column(JSON, nullable=False, default=dict)


class Counter(SQLModel, table=True):
    """Gapless counters (incident numbers), bumped under a row lock."""

    name: str = Field(primary_key=True, max_length=40)
    value: int = 0


class Incident(SQLModel, table=True):
    """One incident, `INC-<number>`."""

    __table_args__ = (UniqueConstraint("number"), UniqueConstraint("request_key"))

    id: int | None = Field(default=None, primary_key=True)
    # Taken last in the declaring transaction (`bot.incidents.declare`): set on every
    # committed incident.
    number: int | None = None
    title: str = Field(max_length=200)
    description: str = ""
    severity: str = Field(max_length=2)
    state: str = Field(default="open", max_length=20, index=True)
    area: str = Field(max_length=80)
    # The area's name when declared: a later config without the area still shows it.
    area_name: str = Field(default="", max_length=120)
    service: str | None = Field(default=None, max_length=80)
    declared_by: str = Field(max_length=40)
    declared_at: datetime = Field(sa_type=UTCDateTime)
    lead: str | None = Field(default=None, max_length=40)
    acknowledged_by: str | None = Field(default=None, max_length=40)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mitigated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=40)
    summary: str = ""
    response_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalation_level: int = 1
    last_status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When customers were first and last hurt, and when anyone (or any alert) noticed:
    # set from the first alert, or by `/incident impact start|end <time>`.
    impact_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    impact_ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    detected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel_name: str = Field(max_length=80)
    channel_id: str | None = Field(default=None, max_length=40, index=True)
    revision: int = 1
    # Identifies the Slack request that declared it, so a retried request finds the
    # incident it already created instead of declaring a second one.
    request_key: str | None = Field(default=None, max_length=120)
    # How it began: None, declared by a person; `alert`, opened by an alert group;
    # `storm`, the incident that alert groups past the storm budget join.
    origin: str | None = Field(default=None, max_length=20)
    # Its service was `confidential` or `pii` when declared: a private channel, and
    # outside it only "INC-n (P1) restricted incident on <service>" is shown.
    restricted: bool = False

    @property
    def ref(self) -> str:
        """`INC-<n>`, as people say it."""
        return f"INC-{self.number}"


class IncidentMessage(SQLModel, table=True):
    """A Slack message that shows an incident and is refreshed when it changes."""

    __table_args__ = (UniqueConstraint("incident_id", "role", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str = Field(max_length=120)  # main, announcement, backlog, page, runbook:<name>:<n>
    channel: str = Field(max_length=40)
    ts: str = Field(max_length=40)
    revision: int = 0
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())


class TimelineEntry(SQLModel, table=True):
    """What happened in an incident, by whom, when: facts, never wording.

    `data` holds the kind's fields (a severity change's `from` and `to`, a note's
    `text` as the user typed it); `bot.messages.events` says it in words.
    """

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=40)
    kind: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())


class AuditRecord(SQLModel, table=True):
    """Append-only record of every action: who did what to which object, when, from
    where (`source`: slack, hook, scheduler, terminal) and how it ended (`outcome`: ok,
    refused, failed).

    Hash-chained: `seq` is its place in the chain, `hash` covers its fields and
    `prev_hash`, the hash of the record before (`bot.audit.chain`), so a changed or
    deleted record is detected by `firebell audit verify`.
    """

    __table_args__ = (UniqueConstraint("seq"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = None
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=40)
    action: str = Field(max_length=60)
    object: str = Field(default="", max_length=120)  # INC-7, service:checkout, config
    source: str = Field(default="slack", max_length=20)
    outcome: str = Field(default="ok", max_length=20)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


class AuditChain(SQLModel, table=True):
    """The head of the audit chain (one row, `name` "audit"), locked to append: the
    last record's `seq` and `hash`, and the anchor left by pruning (the last pruned
    record's `seq` and `hash`), from which verification starts."""

    name: str = Field(primary_key=True, max_length=20)
    seq: int = 0
    hash: str = Field(default="", max_length=64)
    pruned_seq: int = 0
    pruned_hash: str = Field(default="", max_length=64)


class SignOff(SQLModel, table=True):
    """A stakeholder's approval of a service's launch (`/incident signoff`), with a hash
    of the service's governed config then: a later change makes it stale."""

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=80, index=True)
    role: str = Field(max_length=40)
    user_id: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)
    config_hash: str = Field(max_length=64)


class StageChange(SQLModel, table=True):
    """A service moved from one rollout stage to another (`/incident stage`); the newest
    row is the service's stage, else the config's `stage`."""

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=80, index=True)
    from_stage: str | None = Field(default=None, max_length=20)
    to_stage: str = Field(max_length=20)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=40)


class OutboxMessage(SQLModel, table=True):
    """Something to send, written in the same transaction as the change behind it.

    Rows of one `lane` are delivered strictly in id order; lanes run in parallel.
    A worker holds a row through a lease (`lease_owner`, `lease_until`), so a row held
    by a dead worker is taken over once its lease runs out.
    """

    __table_args__ = (
        # Claims walk undelivered rows in id order; delivered rows (the vast majority,
        # eventually) stay out of this index altogether.
        Index(
            "ix_outbox_undone",
            "id",
            sqlite_where=text("done = 0"),
            postgresql_where=text("done = false"),
        ),
        Index("ix_outbox_lane", "lane", "done", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    lane: str = Field(max_length=120)
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    done: bool = False
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the earliest attempt began that may have reached Slack without the outcome
    # being known (its process died, its post answered 5xx or timed out): a later
    # attempt looks from there for a post Slack took after all. Attempts known to have
    # sent nothing (a 429, pacing, a failure before posting) leave it as it was.
    tried_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed: bool = False
    last_error: str | None = None


class Deadline(SQLModel, table=True):
    """A moment the bot must act at: an escalation step, a reminder, a weekly review.

    Deadlines are rows, not scheduler state: whichever process claims a due row
    (`fired_at` set under a lock) acts on it, once. `key` names the schedule a row
    belongs to (`incident:7:escalate`, `review:weekly`); a schedule has at most one
    pending row, which the database enforces.
    """

    __table_args__ = (
        Index(
            "ix_deadline_pending",
            "due_at",
            "id",
            sqlite_where=_PENDING_SQLITE,
            postgresql_where=_PENDING_POSTGRESQL,
        ),
        Index(
            "ux_deadline_pending_key",
            "key",
            unique=True,
            sqlite_where=_PENDING_SQLITE,
            postgresql_where=_PENDING_POSTGRESQL,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    kind: str = Field(max_length=30)
    due_at: datetime = Field(sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fired_by: str | None = Field(default=None, max_length=80)
    cancelled: bool = False


class RunbookStep(SQLModel, table=True):
    """A step of a runbook in an incident, as it stands: ticked or not, by whom, when.

    One row per step ever ticked; the timeline has each tick and untick.
    """

    __table_args__ = (UniqueConstraint("incident_id", "runbook", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    runbook: str = Field(max_length=120)
    step: str = Field(max_length=40)  # `bot.runbooks.steps.step_key`
    ticked: bool = False
    by: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)


class Deploy(SQLModel, table=True):
    """A deploy a pipeline reported (`POST /hooks/deploys`), or one a rollback made."""

    __table_args__ = (
        UniqueConstraint("fingerprint"),
        Index("ix_deploy_history", "service", "environment", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=80)
    environment: str = Field(max_length=40)
    version: str = Field(max_length=120)
    actor: str | None = Field(default=None, max_length=120)
    url: str | None = Field(default=None, max_length=500)
    at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    # A hash of the reported body: the same report twice is recorded once.
    fingerprint: str = Field(max_length=64)
    # The rollback this deploy carried out, when it is one.
    rollback_id: int | None = Field(default=None, foreign_key="rollback.id", index=True)


class Rollback(SQLModel, table=True):
    """A rollback asked for (or a drill's dry run): from what, to what, how it went."""

    __table_args__ = (UniqueConstraint("webhook_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    service: str = Field(max_length=80, index=True)
    environment: str = Field(max_length=40)
    from_version: str | None = Field(default=None, max_length=120)
    to_version: str | None = Field(default=None, max_length=120)
    requested_by: str = Field(max_length=40)
    reason: str = ""
    dry_run: bool = False
    webhook_id: str = Field(max_length=60)  # Standard Webhooks `webhook-id`, every retry
    state: str = Field(default="running", max_length=20)  # running, succeeded, failed
    requested_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_code: int | None = None
    duration_ms: int | None = None
    message: str = ""  # the receiver's answer, truncated


class FollowUp(SQLModel, table=True):
    """An action item of an incident (`/incident followup`): what, whose, open or done."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    text: str
    owner: str = Field(max_length=40, index=True)
    state: str = Field(default="open", max_length=10)  # open, done
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=40)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SlackEvent(SQLModel, table=True):
    """An Events API delivery already handled: Slack retries one by its `event_id`."""

    event_id: str = Field(primary_key=True, max_length=60)
    kind: str = Field(max_length=60)
    received_at: datetime = Field(sa_type=UTCDateTime)


class AlertNotification(SQLModel, table=True):
    """A webhook call from Alertmanager or Grafana, kept whole: its body as received, when,
    and what it did (the incident it went to, or why none)."""

    __table_args__ = (Index("ix_alertnotification_body_hash", "body_hash", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)  # alertmanager, grafana
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
    body: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    # sha256 of the source and the body's bytes: the same body again within the retry
    # window is a retry, recorded once (`bot.store.alert_notifications`).
    body_hash: str = Field(max_length=64)
    group_key: str = ""
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    # opened, attached, storm, repeated, backlog (routed nowhere), ignored; `reason` says why
    outcome: str = Field(default="", max_length=20)
    reason: str = ""


class AlertGroup(SQLModel, table=True):
    """An alert group (`groupKey` of its source) and the incident it goes to while that
    incident is open; `opened` when this group's first notification opened the incident
    (what the storm budget counts)."""

    __table_args__ = (Index("ix_alertgroup_key", "key_hash", "incident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)
    group_key: str
    key_hash: str = Field(max_length=64)  # sha256 of source and group key: indexable
    incident_id: int = Field(foreign_key="incident.id", index=True)
    opened: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Alert(SQLModel, table=True):
    """One alert of an incident, by its fingerprint, as it stands (firing or resolved)."""

    __table_args__ = (UniqueConstraint("incident_id", "source", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="alertgroup.id")
    source: str = Field(max_length=20)
    fingerprint: str = Field(max_length=200)
    name: str = Field(max_length=200)
    status: str = Field(default="firing", max_length=10)  # firing, resolved
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    annotations: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    generator_url: str | None = None
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fired: int = 1  # how many times it started firing (1 + times it fired again)


class FailureCase(SQLModel, table=True):
    """A failure case a product reported (`POST /hooks/feedback`): a wrong answer, low
    confidence, a thumbs down, a hand-over to a person. Kept once per (service, kind,
    ref); cases without a ref all count (NULLs are distinct in the unique constraint)."""

    __table_args__ = (
        UniqueConstraint("service", "kind", "ref"),
        Index("ix_failurecase_service_at", "service", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=80)
    kind: str = Field(max_length=40)
    ref: str | None = Field(default=None, max_length=200)
    text: str | None = None  # as sent, PII masked, at most 2,000 characters; escaped when shown
    confidence: float | None = None
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
