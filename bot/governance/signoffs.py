"""`/incident signoff <service> <role>`: a stakeholder approves the service's launch.

Only the person `readiness.stakeholders` names for the role may sign. The sign-off
keeps the hash of the service's governed config (`bot.governance.governed`), so a
later change of it makes the sign-off stale. Under the service's lock, a sign-off
already kept by the same person over the same config is not written again: a double
click records one row. Every sign-off and every refusal is an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from bot.audit.trail import audit
from bot.config.model import Config
from bot.governance.governed import governed_hash
from bot.governance.records import latest_signoffs, lock_service
from bot.store.db import db_now
from bot.store.tables import SignOff

ACTION = "signoff"


@dataclass(frozen=True)
class SignOffResult:
    """What a sign-off did: `recorded`, `already` (kept before, over this config) or
    `refused` (`reason`: unknown_service, unknown_role, not_stakeholder)."""

    outcome: str
    service: str
    role: str
    user: str
    at: datetime
    reason: str | None = None
    allowed: str | None = None  # who may sign the role
    roles: dict[str, str] = field(default_factory=dict)  # the service's stakeholders
    services: tuple[str, ...] = ()  # the services of the config (for unknown_service)


def sign_off(
    session: Session, config: Config, *, service: str, role: str, user: str
) -> SignOffResult:
    """Record `user`'s sign-off of `service` as `role`, or say why not."""
    now = db_now(session)
    settings = config.services.get(service)
    if settings is None:
        result = SignOffResult(
            "refused", service, role, user, now, "unknown_service", services=tuple(config.services)
        )
        return _audited(session, result)
    named = dict(settings.readiness.stakeholders)
    allowed = named.get(role)
    base = SignOffResult("refused", service, role, user, now, allowed=allowed, roles=named)
    if allowed is None:
        return _audited(session, replace(base, reason="unknown_role"))
    if user != allowed:
        return _audited(session, replace(base, reason="not_stakeholder"))
    lock_service(session, service)
    config_hash = governed_hash(config, service)
    for kept in latest_signoffs(session, service=service):
        if kept.role == role and kept.user == user and kept.config_hash == config_hash:
            # The answer says when it was signed; the audit record says when it was
            # asked again (now): a record backdated to the first sign-off would sit
            # out of time order in the trail.
            _audited(session, replace(base, outcome="already"))
            return replace(base, outcome="already", at=kept.at)
    session.add(SignOff(service=service, role=role, user_id=user, at=now, config_hash=config_hash))
    return _audited(session, replace(base, outcome="recorded"), config_hash=config_hash)


def _audited(
    session: Session, result: SignOffResult, *, config_hash: str | None = None
) -> SignOffResult:
    """Stage the audit record of `result`, at `result.at` (now); return `result`."""
    detail: dict[str, object] = {"role": result.role, "result": result.outcome}
    if result.reason is not None:
        detail["reason"] = result.reason
    if result.allowed is not None and result.outcome == "refused":
        detail["allowed"] = result.allowed
    if config_hash is not None:
        detail["config_hash"] = config_hash
    audit(
        session,
        at=result.at,
        actor=result.user,
        action=ACTION,
        object=f"service:{result.service}"[:120],
        outcome="refused" if result.outcome == "refused" else "ok",
        detail=detail,
    )
    return result
