"""Sign-offs and stage moves in words: the answers to the person who asked, and the
announcement of a move (mrkdwn; every name from the config or the user escaped)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.governance import STAGES
from bot.core.escaping import escape, mention
from bot.governance.render import TITLES
from bot.governance.signoffs import SignOffResult
from bot.governance.staging import StageResult


def _known(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{escape(n)}`" for n in sorted(names)) or "none configured"


def signoff_answer(result: SignOffResult) -> str:
    """What `/incident signoff` (or a `Sign off` button) did, for the signer."""
    service, role = escape(result.service), escape(result.role)
    if result.reason == "unknown_service":
        return f":x: There is no service `{service}`. Known services: {_known(result.services)}."
    if result.reason == "unknown_role":
        if not result.roles:
            return (
                f":x: `{service}` names no stakeholders, so nobody signs it off. Name them "
                f"under `services.{service}.readiness.stakeholders`."
            )
        return (
            f":x: `{service}` has no stakeholder role `{role}`. Its roles: "
            + ", ".join(f"`{escape(r)}` ({mention(u)})" for r, u in result.roles.items())
            + "."
        )
    if result.reason == "not_stakeholder":
        who = mention(result.allowed) if result.allowed else "nobody"
        return (
            f":no_entry: Only {who} may sign off `{service}` as {role}: "
            f"`readiness.stakeholders.{role}` names them. Nothing was recorded."
        )
    if result.outcome == "already":
        return (
            f":information_source: You signed off `{service}` as {role} already, over the "
            "same config. Nothing changed."
        )
    return (
        f":white_check_mark: Signed off `{service}` as {role}. A later change of its slo, "
        "classification, rollback or RACI row makes this sign-off stale."
    )


def stage_answer(result: StageResult) -> str:
    """What `/incident stage` did, for the person who asked."""
    service, target = escape(result.service), escape(result.target)
    if result.reason == "unknown_service":
        return f":x: There is no service `{service}`. Known services: {_known(result.services)}."
    if result.reason == "unknown_stage":
        stages = ", ".join(f"`{s}`" for s in STAGES)
        return f":x: `{target}` is not a stage: use one of {stages}."
    if result.reason == "not_ready":
        missing = ", ".join(f"{TITLES[m]} (`{m}`)" for m in result.missing)
        return (
            f":no_entry: `{service}` stays at {result.current}: moving to {target} needs "
            f"{missing}. `/incident readiness {service}` says what to do for each."
        )
    if result.outcome == "same":
        return f":information_source: `{service}` is at {target} already. Nothing changed."
    told = (
        f" Announced in <#{result.announced}>."
        if result.announced
        else " (No announcements channel is configured: nobody else was told.)"
    )
    back = " back" if result.direction == "back" else ""
    return f":white_check_mark: Moved `{service}`{back} from {result.current} to {target}.{told}"


def stage_announcement(facts: Mapping[str, Any]) -> str:
    """The post telling the announcements channel a service moved stage."""
    service = escape(str(facts.get("service")))
    source, target, actor = facts.get("from"), facts.get("to"), str(facts.get("actor"))
    if facts.get("direction") == "back":
        return (
            f":rewind: *{service}* moved back from {source} to {target} by {mention(actor)}: "
            "its exposure is reduced."
        )
    return f":rocket: *{service}* moved from {source} to {target} by {mention(actor)}."
