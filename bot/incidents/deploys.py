"""Recording a deploy a pipeline reported, once, and what it changes.

A deploy is recorded with the fingerprint of its report, so the same report twice is
recorded once (`insert_deploy` leaves a second one to the unique index). A deploy of
the version a rollback of its service and environment went back to is that
rollback's deploy. The main messages of the service's unresolved incidents show its
version, so each of them is refreshed in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from bot.config.model import Config
from bot.core.deploys import Target, environment_of, rollback_target
from bot.core.pii import redact_for
from bot.incidents import queue
from bot.store.db import db_now
from bot.store.deploys import (
    deploy_by_fingerprint,
    deploys_of,
    history,
    insert_deploy,
    link_rollback,
    open_incidents_of,
    rollback_awaiting,
)
from bot.store.tables import Deploy


@dataclass(frozen=True)
class Report:
    """A deploy as a pipeline reported it; `at` None: now. `message_id` is the
    Standard Webhooks `webhook-id` of a signed report."""

    service: str
    environment: str
    version: str
    actor: str | None = None
    url: str | None = None
    at: datetime | None = None
    message_id: str | None = None

    @property
    def fingerprint(self) -> str:
        """sha256 of the report's canonical JSON: equal for the same report."""
        canonical = {
            "service": self.service,
            "environment": self.environment,
            "version": self.version,
            "actor": self.actor,
            "url": self.url,
            "at": self.at.astimezone(UTC).isoformat() if self.at else None,
            "webhook-id": self.message_id,
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """What recording a report did: the deploy's id, whether this report recorded it
    (False: an earlier one with the same fingerprint did), the rollback it carried out."""

    id: int
    recorded: bool
    rollback_id: int | None = None


def record_deploy(session: Session, config: Config, *, report: Report) -> Recorded:
    """Record a reported deploy once, link it to the rollback it carried out, and
    refresh the main messages of the service's unresolved incidents."""
    now = db_now(session)
    fingerprint = report.fingerprint
    deploy_id = insert_deploy(
        session,
        service=report.service,
        environment=report.environment,
        version=report.version,
        actor=redact_for(config, report.service, report.actor),  # a pipeline may send an e-mail
        url=report.url,
        at=report.at or now,
        received_at=now,
        fingerprint=fingerprint,
    )
    if deploy_id is None:
        earlier = deploy_by_fingerprint(session, fingerprint=fingerprint)
        assert earlier is not None  # noqa: S101 - what the insert conflicted with
        assert earlier.id is not None  # noqa: S101 - read from the database
        return Recorded(earlier.id, recorded=False, rollback_id=earlier.rollback_id)
    rollback = rollback_awaiting(
        session, service=report.service, environment=report.environment, version=report.version
    )
    rollback_id = rollback.id if rollback is not None else None
    if rollback_id is not None:
        link_rollback(session, deploy_id=deploy_id, rollback_id=rollback_id)
    if report.environment == environment_of(config, report.service):
        for incident in open_incidents_of(session, service=report.service):
            queue.refresh(session, incident, now=now)
    return Recorded(deploy_id, recorded=True, rollback_id=rollback_id)


def current_target(session: Session, config: Config, *, service: str) -> Target:
    """The current version and rollback target of a service in the environment it
    rolls back (the one its incidents' main messages show)."""
    environment = environment_of(config, service)
    return rollback_target(history(session, service=service, environment=environment))


@dataclass(frozen=True)
class Deploys:
    """A service's deploys by environment (oldest first) and each one's versions."""

    by_environment: dict[str, list[Deploy]]
    targets: dict[str, Target]


def service_deploys(session: Session, *, service: str) -> Deploys:
    """Every deploy of a service, and the current version and rollback target in each
    of its environments."""
    by_environment = deploys_of(session, service=service)
    targets = {
        environment: rollback_target(history(session, service=service, environment=environment))
        for environment in by_environment
    }
    return Deploys(by_environment, targets)
