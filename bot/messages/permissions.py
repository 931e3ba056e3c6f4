"""Wording of permission refusals: who may, and how to get it done."""

from __future__ import annotations

from bot.config.model import Config
from bot.core.escaping import escape, mention
from bot.core.permissions import Action, Decision

WHAT: dict[Action, str] = {
    "lower_p0_severity": "lower the severity of a P0 incident",
    "resolve_p0": "resolve a P0 incident",
    "resolve_p1": "resolve a P1 incident",
    "rollback": "roll back a service",
}
ASK: dict[Action, str] = {
    "lower_p0_severity": "Ask one of them to run `/incident sev <P1-P3>` in the incident channel.",
    "resolve_p0": "Ask one of them to resolve it (`/incident resolve` or the Resolve button).",
    "resolve_p1": "Ask one of them to resolve it (`/incident resolve` or the Resolve button).",
    "rollback": "Ask one of them to roll back (`/incident rollback` or the Rollback button).",
}
LOWER_P1 = "lower the severity of a P1 incident"
LOWER_P1_ASK = "Ask one of them to run `/incident sev <P2-P3>` in the incident channel."
_GUARDS: dict[Action, str] = {"resolve_p0": "P0", "resolve_p1": "P1"}
_ROLE_WORDS = {
    "responsible": "the Responsible team",
    "accountable": "the Accountable person",
    "consulted": "the Consulted teams",
    "informed": "the Informed teams",
    "lead": "the incident lead",
    "oncall": "the Responsible team's on-call",
    "declarer": "whoever declared the incident",
}


def rule_words(config: Config, rule: tuple[str, ...]) -> str:
    """`the Responsible team, the Accountable person or the incident lead`."""
    words = [_entry_words(config, entry) for entry in rule]
    if len(words) <= 1:
        return words[0] if words else "nobody"
    return ", ".join(words[:-1]) + " or " + words[-1]


def refusal(
    config: Config, action: Action, decision: Decision, *, attempted: str = "", severity: str = ""
) -> str:
    """The ephemeral answer to a refused action: the rule, the people, what to do.

    `attempted` (the audit action tried) and `severity` (the incident's now) word the
    refusals whose permission guards something else too: lowering a P1 (`resolve_p1`),
    resolving an incident that was P0/P1 and is lower now (its peak guards it)."""
    rule = rule_words(config, decision.rule)
    what, ask = WHAT[action], ASK[action]
    guarded = _GUARDS.get(action)
    if action == "resolve_p1" and attempted == "incident.severity_changed":
        what, ask = LOWER_P1, LOWER_P1_ASK
    elif attempted == "incident.resolved" and guarded and severity and severity != guarded:
        what = f"resolve an incident that was ever {guarded}, as this {escape(severity)} was"
    head = f":no_entry: Only {rule} may {what} (`permissions.{action}`)."
    if not decision.who_may:
        return (
            f"{head} Nobody fills that role for this incident now: ask the Accountable "
            f"person of its area, or whoever runs firebell to change `permissions.{action}`."
        )
    who = ", ".join(mention(user) for user in decision.who_may)
    teams = f" (teams: {', '.join(escape(t) for t in decision.teams)})" if decision.teams else ""
    return f"{head} For this incident that is {who}{teams}. {ask}"


def _entry_words(config: Config, entry: str) -> str:
    if entry in _ROLE_WORDS:
        return _ROLE_WORDS[entry]
    team = config.teams.get(entry)
    return escape(team.name) if team is not None else mention(entry)
