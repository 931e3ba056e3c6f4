"""The facts a service's checklist is evaluated over, read in one transaction.

The config says what is declared (and, through pydantic's `model_fields_set`, what the
file wrote rather than left to a default); the database what happened: sign-offs,
the latest rollback drill, failure cases; the runbooks folder which runbooks exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.config.governance import Stage
from bot.config.model import Config
from bot.governance.checklist import FEEDBACK_WINDOW, DrillRun, Facts, Item, evaluate
from bot.governance.governed import governed_hash
from bot.governance.records import current_stage, latest_signoffs
from bot.incidents.drills import last_drill
from bot.runbooks import Runbook
from bot.runbooks.matching import Rank, runbook_rank
from bot.store.db import db_now
from bot.store.tables import FailureCase

SPECIFIC = (Rank.LISTED, Rank.ALERT, Rank.SERVICE, Rank.AREA)  # a general runbook is not one


@dataclass(frozen=True)
class Checklist:
    """A service's checklist, and its stage, at one moment."""

    service: str
    stage: Stage | None
    items: list[Item]
    at: datetime


def service_runbooks(
    config: Config, runbooks: Mapping[str, Runbook], service: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The runbooks for the service (listed by it, or naming it or its area, at any
    severity), and those it lists that the folder lacks."""
    settings = config.services[service]
    listed = list(dict.fromkeys(settings.runbooks))
    found = [name for name in listed if name in runbooks]
    for name, runbook in sorted(runbooks.items()):
        if name in found:
            continue
        ranks = [
            runbook_rank(runbook.meta, service=service, area=settings.area, severity=level)
            for level in config.severities
        ]
        if any(rank in SPECIFIC for rank in ranks):
            found.append(name)
    return tuple(found), tuple(name for name in listed if name not in runbooks)


def gather(
    session: Session,
    config: Config,
    runbooks: Mapping[str, Runbook],
    *,
    service: str,
    now: datetime | None = None,
) -> Facts:
    """Everything the checklist of `service` needs, read now."""
    at = db_now(session) if now is None else now
    settings = config.services[service]
    drill = last_drill(session, service=service)
    cases = session.execute(
        select(func.count())
        .select_from(FailureCase)
        .where(col(FailureCase.service) == service, col(FailureCase.at) >= at - FEEDBACK_WINDOW)
    ).scalar_one()
    found, absent = service_runbooks(config, runbooks, service)
    return Facts(
        service=service,
        settings=settings,
        area=config.areas.get(settings.area),
        teams=config.teams,
        config_hash=governed_hash(config, service),
        now=at,
        classification_set="classification" in settings.model_fields_set,
        signoffs=tuple(latest_signoffs(session, service=service)),
        pii=config.pii,
        pii_set="pii" in config.model_fields_set,
        runbooks=found,
        runbooks_absent=absent,
        last_drill=None if drill is None else DrillRun(drill.requested_at, drill.state),
        failure_cases=int(cases),
        review_channel=None if config.review is None else config.review.channel,
    )


def readiness(
    session: Session, config: Config, runbooks: Mapping[str, Runbook], *, service: str
) -> Checklist:
    """The service's checklist and stage, read in this transaction."""
    facts = gather(session, config, runbooks, service=service)
    stage = current_stage(session, config, service=service)
    return Checklist(service, stage, evaluate(facts), facts.now)


def readiness_of_all(
    session: Session, config: Config, runbooks: Mapping[str, Runbook], services: list[str]
) -> list[Checklist]:
    """`readiness` of each of `services`, in one transaction."""
    return [readiness(session, config, runbooks, service=name) for name in services]
