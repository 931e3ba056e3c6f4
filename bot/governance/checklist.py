"""The launch-readiness checklist: the seed's eleven items, each a rule over plain facts.

Every rule answers `done`, `missing` or `stale` with a reason code and the facts behind
it; `bot.governance.render` words them. A rule says `done` only on evidence found in
the config or the database: a default value is not a decision (`classification`
defaults to internal, and an unset one is missing), and a feature this firebell lacks
answers `missing`, saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.config.governance import Pii
from bot.config.model import USER_ID, Area, Service, Team
from bot.core.oncall import on_call

Status = Literal["done", "missing", "stale"]

FEEDBACK_WINDOW = timedelta(days=30)  # failure cases this recent count as collected
SLO_TARGETS = ("success_rate", "latency_p95", "latency_p99", "monthly_cost", "max_failure_rate")
FAILURE_TARGETS = ("max_failure_rate", "success_rate")
MASKED_CLASSES = ("confidential", "pii")  # masked under `pii.scope: pii`


@dataclass(frozen=True)
class SignedOff:
    """A stakeholder's latest sign-off of the service."""

    role: str
    user: str
    at: datetime
    config_hash: str


@dataclass(frozen=True)
class DrillRun:
    """The service's latest dry-run rollback: when it was asked for and how it went."""

    at: datetime
    state: str  # running, succeeded, failed


@dataclass(frozen=True)
class Facts:
    """What the checklist of one service is evaluated over, read at one moment."""

    service: str
    settings: Service
    area: Area | None
    teams: Mapping[str, Team]
    config_hash: str  # `governed_hash` of the service now
    now: datetime
    classification_set: bool = False  # the file writes `classification` for the service
    signoffs: tuple[SignedOff, ...] = ()  # the latest one per role
    pii: Pii = field(default_factory=Pii)
    pii_set: bool = False  # the file has a `pii` block
    runbooks: tuple[str, ...] = ()  # runbooks listed for, or naming, the service or its area
    runbooks_absent: tuple[str, ...] = ()  # runbooks the service lists that do not exist
    last_drill: DrillRun | None = None
    failure_cases: int = 0  # failure cases received within FEEDBACK_WINDOW
    review_channel: str | None = None  # the weekly failure review's channel


@dataclass(frozen=True)
class Item:
    """One checklist item's answer: `reason` is a code `render` words; `facts` what the
    rule found (plain JSON values)."""

    key: str
    status: Status
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)


def _item(key: str, status: Status, reason: str, **facts: Any) -> Item:
    return Item(key, status, reason, facts)


@dataclass(frozen=True)
class Approval:
    """Where the stakeholders' sign-offs stand: roles signed now, stale, or not at all."""

    named: dict[str, str]
    signed: list[dict[str, str]]
    stale: list[str]
    unsigned: list[str]


def approval(facts: Facts) -> Approval:
    """Each named stakeholder's sign-off: fresh when made by the person named now and
    over the governed config as it is now."""
    named = dict(facts.settings.readiness.stakeholders)
    latest = {s.role: s for s in facts.signoffs}
    signed, stale, unsigned = [], [], []
    for role, user in named.items():
        found = latest.get(role)
        if found is None or found.user != user:
            unsigned.append(role)
        elif found.config_hash != facts.config_hash:
            stale.append(role)
        else:
            signed.append({"role": role, "user": user, "at": found.at.isoformat()})
    return Approval(named, signed, stale, unsigned)


def stakeholders(facts: Facts) -> Item:
    """Stakeholders approved: every role of `readiness.stakeholders` signed off."""
    found = approval(facts)
    if not found.named:
        return _item("stakeholders", "missing", "no_stakeholders")
    if found.unsigned:
        return _item(
            "stakeholders",
            "missing",
            "unsigned",
            unsigned={r: found.named[r] for r in found.unsigned},
            stale=found.stale,
        )
    if found.stale:
        return _item("stakeholders", "stale", "stale_signoffs", stale=found.stale)
    return _item("stakeholders", "done", "signed", signed=found.signed)


def failure_rate(facts: Facts) -> Item:
    """Acceptable failure rate agreed: a target set, and every stakeholder's fresh
    sign-off over it (a sign-off's hash covers the slo)."""
    slo = facts.settings.slo
    targets = {
        name: getattr(slo, name)
        for name in FAILURE_TARGETS
        if slo is not None and getattr(slo, name) is not None
    }
    if not targets:
        return _item("failure_rate", "missing", "no_target")
    found = approval(facts)
    if not found.named:
        return _item("failure_rate", "missing", "no_stakeholders", targets=targets)
    if found.unsigned:
        return _item(
            "failure_rate", "missing", "not_agreed", targets=targets, unsigned=found.unsigned
        )
    if found.stale:
        return _item("failure_rate", "stale", "stale_agreement", targets=targets, stale=found.stale)
    return _item("failure_rate", "done", "agreed", targets=targets)


def raci(facts: Facts) -> Item:
    """RACI defined: the service's area has R, A, C and I."""
    area = facts.area
    if area is None:
        return _item("raci", "missing", "no_area", area=facts.settings.area)
    roles = {
        "responsible": [area.responsible] if area.responsible else [],
        "accountable": [area.accountable] if area.accountable else [],
        "consulted": list(area.consulted),
        "informed": list(area.informed),
    }
    empty = [role for role, refs in roles.items() if not refs]
    if empty:
        return _item("raci", "missing", "incomplete", area=facts.settings.area, empty=empty)
    return _item("raci", "done", "complete", area=facts.settings.area, **roles)


def owner(facts: Facts) -> Item:
    """Incident owner clear: an Accountable person, and someone the Responsible team
    pages (its on-call now, else its members; or the Responsible user)."""
    area = facts.area
    if area is None:
        return _item("owner", "missing", "no_area", area=facts.settings.area)
    if not USER_ID.match(area.accountable):
        return _item("owner", "missing", "no_accountable", accountable=area.accountable)
    team = facts.teams.get(area.responsible)
    if team is None:
        if USER_ID.match(area.responsible):
            return _item(
                "owner", "done", "owner", accountable=area.accountable, responder=area.responsible
            )
        return _item("owner", "missing", "no_responder", team=area.responsible)
    now = on_call(team, facts.now)
    if now is not None:
        return _item(
            "owner",
            "done",
            "on_call",
            accountable=area.accountable,
            team=area.responsible,
            user=now,
        )
    if team.members:
        return _item(
            "owner",
            "done",
            "members",
            accountable=area.accountable,
            team=area.responsible,
            members=list(team.members),
        )
    return _item("owner", "missing", "no_responder", team=area.responsible)


def classification(facts: Facts) -> Item:
    """Data classification set: written in the file, not left at its default."""
    value = facts.settings.classification
    if not facts.classification_set:
        return _item("classification", "missing", "defaulted", classification=value)
    return _item("classification", "done", "set", classification=value)


def pii(facts: Facts) -> Item:
    """PII policy in force: a `pii` block states the policy (firebell masks by default,
    but nobody decided that), and the policy covers the service's text."""
    if not facts.pii_set:
        return _item("pii", "missing", "no_policy")
    policy, value = facts.pii, facts.settings.classification
    if policy.scope == "pii" and value not in MASKED_CLASSES:
        return _item("pii", "missing", "not_covered", scope=policy.scope, classification=value)
    return _item("pii", "done", "masked", mode=policy.mode, scope=policy.scope)


def slo(facts: Facts) -> Item:
    """SLOs defined: an slo block with at least one target."""
    block = facts.settings.slo
    if block is None:
        return _item("slo", "missing", "no_slo")
    targets = [name for name in SLO_TARGETS if getattr(block, name) is not None]
    if not targets:
        return _item("slo", "missing", "no_target")
    return _item("slo", "done", "targets", targets=targets)


def dashboard(facts: Facts) -> Item:
    """Monitoring dashboard: a `dashboard` link."""
    url = facts.settings.dashboard
    if not url:
        return _item("dashboard", "missing", "no_dashboard")
    return _item("dashboard", "done", "linked", url=url)


def rollback(facts: Facts) -> Item:
    """Rollback procedure: a rollback hook, drilled, the latest drill passed within
    `drill_every`."""
    hook = facts.settings.rollback
    if hook is None:
        return _item("rollback", "missing", "no_rollback")
    every = hook.drill_every
    if every is None:
        return _item("rollback", "missing", "no_drills")
    last = facts.last_drill
    seconds = int(every.total_seconds())
    if last is None:
        return _item("rollback", "missing", "never_drilled", every=seconds)
    at = last.at.isoformat()
    if last.state == "failed":
        return _item("rollback", "missing", "drill_failed", at=at, every=seconds)
    if last.state != "succeeded":
        return _item("rollback", "missing", "drill_running", at=at, every=seconds)
    if facts.now - last.at > every:
        return _item("rollback", "stale", "drill_overdue", at=at, every=seconds)
    return _item("rollback", "done", "drilled", at=at, every=seconds)


def runbook(facts: Facts) -> Item:
    """Incident response runbook: a runbook listed for, or naming, the service or area."""
    if facts.runbooks:
        return _item("runbook", "done", "matched", runbooks=list(facts.runbooks))
    if facts.runbooks_absent:
        return _item("runbook", "missing", "listed_absent", runbooks=list(facts.runbooks_absent))
    return _item("runbook", "missing", "no_runbook", area=facts.settings.area)


def feedback(facts: Facts) -> Item:
    """Feedback collection: failure cases received lately, or the weekly review set up."""
    days = FEEDBACK_WINDOW.days
    if facts.failure_cases:
        return _item("feedback", "done", "cases", count=facts.failure_cases, days=days)
    if facts.review_channel:
        return _item("feedback", "done", "review", channel=facts.review_channel)
    return _item("feedback", "missing", "none", days=days)


RULES: Mapping[str, Callable[[Facts], Item]] = {
    "stakeholders": stakeholders,
    "failure_rate": failure_rate,
    "raci": raci,
    "owner": owner,
    "classification": classification,
    "pii": pii,
    "slo": slo,
    "dashboard": dashboard,
    "rollback": rollback,
    "runbook": runbook,
    "feedback": feedback,
}


def evaluate(facts: Facts) -> list[Item]:
    """The eleven items for the service, in the seed's order."""
    return [rule(facts) for rule in RULES.values()]
