"""`/incident stage <service> <stage>`: move a staged rollout.

Forward only when the checklist items the stages passed into require are done
(`bot.governance.stages`); back always. Under the service's lock the current stage is
read, the move recorded (`StageChange`: from, to, who, when) and announced in the
announcements channel (an outbox row, `STAGE_POST`), so two moves at once apply one
after the other: the second sees the first's stage. Every move and every refusal is
an audit record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session

from bot.audit.trail import audit
from bot.config.governance import STAGES, Stage
from bot.config.model import Config
from bot.governance.checklist import evaluate
from bot.governance.gather import gather
from bot.governance.records import lock_service, stage_or_start
from bot.governance.stages import gate
from bot.runbooks import Runbook
from bot.store.db import db_now
from bot.store.outbox import Message, enqueue
from bot.store.tables import StageChange

ACTION = "stage"
STAGE_POST = "stage_announcement"  # outbox kind: a stage move told in announcements


@dataclass(frozen=True)
class StageResult:
    """What a move did: `moved`, `same` (already there) or `refused` (`reason`:
    unknown_service, unknown_stage, not_ready with `missing` items)."""

    outcome: str
    service: str
    target: str
    current: str | None = None
    direction: str = ""
    reason: str | None = None
    missing: tuple[str, ...] = ()
    announced: str | None = None  # the channel the move is announced in
    services: tuple[str, ...] = ()


def move_stage(
    session: Session,
    config: Config,
    runbooks: Mapping[str, Runbook],
    *,
    service: str,
    stage: str,
    user: str,
) -> StageResult:
    """Move `service` to `stage` on behalf of `user`, or say why not."""
    if service not in config.services:
        result = StageResult(
            "refused", service, stage, reason="unknown_service", services=tuple(config.services)
        )
        return _audited(session, result, user)
    if stage not in STAGES:
        refused = StageResult("refused", service, stage, reason="unknown_stage")
        return _audited(session, refused, user)
    target: Stage = STAGES[STAGES.index(stage)]
    lock_service(session, service)
    current = stage_or_start(session, config, service=service)
    facts = gather(session, config, runbooks, service=service)
    decision = gate(config.services[service].readiness, current, target, evaluate(facts))
    if not decision.allowed:
        refused = StageResult(
            "refused",
            service,
            target,
            current,
            decision.direction,
            reason="not_ready",
            missing=decision.missing,
        )
        return _audited(session, refused, user)
    if decision.direction == "same":
        return _audited(session, StageResult("same", service, target, current, "same"), user)
    session.add(
        StageChange(service=service, from_stage=current, to_stage=target, at=facts.now, actor=user)
    )
    channel = config.channels.announcements
    if channel is not None:
        facts_posted = {
            "channel": channel,
            "service": service,
            "from": current,
            "to": target,
            "direction": decision.direction,
            "actor": user,
            "at": facts.now.isoformat(),
        }
        enqueue(
            session, [Message(STAGE_POST, f"governance:{service}", facts_posted)], now=facts.now
        )
    moved = StageResult("moved", service, target, current, decision.direction, announced=channel)
    return _audited(session, moved, user)


def _audited(session: Session, result: StageResult, user: str) -> StageResult:
    detail: dict[str, object] = {"from": result.current, "to": result.target}
    if result.reason is not None:
        detail["reason"] = result.reason
    if result.missing:
        detail["missing"] = list(result.missing)
    audit(
        session,
        at=db_now(session),
        actor=user,
        action=ACTION,
        object=f"service:{result.service}"[:120],
        outcome="refused" if result.outcome == "refused" else "ok",
        detail=detail,
    )
    return result
