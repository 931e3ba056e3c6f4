"""The readiness checklist in words: Slack blocks (`/incident readiness`), terminal
text and JSON (`firebell readiness`).

Each item's reason code becomes a sentence saying what was found and one saying what
to do, written once for both surfaces: a `Style` says how a name from the config, a
person and a time are shown (escaped mrkdwn, mentions and date tokens in Slack; plain
text in the terminal).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.config.duration import format_duration
from bot.core.escaping import escape, mention
from bot.governance.checklist import Item
from bot.governance.gather import Checklist
from bot.messages.words import when

SIGN_OFF_ACTION = "readiness_signoff"  # the `Sign off` button's action id
DASHBOARD_ACTION = "readiness_dashboard"  # a link button: Slack still tells the app
SECTION_LIMIT = 3000  # characters of a section's text (Slack)

TITLES: Mapping[str, str] = {
    "stakeholders": "Stakeholders approved",
    "failure_rate": "Acceptable failure rate agreed",
    "raci": "RACI defined",
    "owner": "Incident owner clear",
    "classification": "Data classification set",
    "pii": "PII policy in force",
    "slo": "SLOs defined",
    "dashboard": "Monitoring dashboard",
    "rollback": "Rollback procedure",
    "runbook": "Incident response runbook",
    "feedback": "Feedback collection",
}
ICONS = {"done": ":white_check_mark:", "missing": ":x:", "stale": ":warning:"}


@dataclass(frozen=True)
class Style:
    """How names, people and times read on one surface."""

    name: Callable[[str], str]
    person: Callable[[str], str]
    time: Callable[[datetime], str]


SLACK = Style(name=escape, person=mention, time=when)
TERMINAL = Style(name=str, person=str, time=lambda at: at.strftime("%Y-%m-%d %H:%M UTC"))


def _names(style: Style, values: list[str]) -> str:
    return ", ".join(style.name(v) for v in values)


def _roles(style: Style, roles: Mapping[str, str]) -> str:
    return ", ".join(f"{style.name(r)} ({style.person(u)})" for r, u in roles.items())


def _percent(value: object) -> str:
    return f"{float(str(value)) * 100:g}%"


def _targets(facts: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {_percent(v)}" for k, v in dict(facts.get("targets", {})).items())


def _every(facts: Mapping[str, Any]) -> str:
    return format_duration(timedelta(seconds=int(facts.get("every", 0))))


def _at(style: Style, facts: Mapping[str, Any]) -> str:
    return style.time(datetime.fromisoformat(str(facts["at"])))


def wording(item: Item, service: str, style: Style) -> tuple[str, str | None]:
    """What the item found, and what to do about it (None when nothing is to do)."""
    f, s, svc = item.facts, style, style.name(service)
    sign = f"`/incident signoff {svc} <role>`"
    words: dict[str, Callable[[], tuple[str, str | None]]] = {
        "no_stakeholders": lambda: (
            "Nobody is named to approve the launch"
            + (f" or its target ({_targets(f)})." if f.get("targets") else "."),
            f"Name the approvers under `services.{svc}.readiness.stakeholders` "
            "(e.g. legal, security, support, business: Slack user IDs).",
        ),
        "unsigned": lambda: (
            f"Not signed off by {_roles(s, dict(f.get('unsigned', {})))}"
            + (f"; stale: {_names(s, list(f.get('stale', [])))}" if f.get("stale") else "")
            + ".",
            f"Each of them runs {sign}.",
        ),
        "stale_signoffs": lambda: (
            f"Signed off before the service's slo, classification, rollback or RACI row "
            f"changed: {_names(s, list(f.get('stale', [])))}.",
            f"They review the change and sign again: {sign}.",
        ),
        "signed": lambda: (
            "Signed off by "
            + ", ".join(
                f"{s.name(x['role'])} ({s.person(x['user'])}, {_at(s, x)})"
                for x in f.get("signed", [])
            )
            + ".",
            None,
        ),
        "no_target": lambda: (
            "No `slo.max_failure_rate` or `slo.success_rate`."
            if item.key == "failure_rate"
            else "The slo block sets no target.",
            "Agree how often it may be wrong and write it in the service's slo block "
            "(e.g. `max_failure_rate: 5%`)."
            if item.key == "failure_rate"
            else "Set at least one of success_rate, latency_p95, latency_p99, monthly_cost, "
            "max_failure_rate.",
        ),
        "not_agreed": lambda: (
            f"Target set ({_targets(f)}), but not signed off by every stakeholder.",
            f"The stakeholders approve it: {sign}.",
        ),
        "stale_agreement": lambda: (
            f"Target {_targets(f)} changed since it was signed off "
            f"({_names(s, list(f.get('stale', [])))}).",
            f"They sign again: {sign}.",
        ),
        "agreed": lambda: (f"{_targets(f)}, signed off by every stakeholder.", None),
        "no_area": lambda: (
            f"The service's area `{s.name(str(f.get('area')))}` is not in the RACI table.",
            "Add the area under `areas`, or fix the service's `area`.",
        ),
        "incomplete": lambda: (
            f"Area `{s.name(str(f.get('area')))}` has no {_names(s, list(f.get('empty', [])))}.",
            "Fill in responsible, accountable, consulted and informed for the area.",
        ),
        "complete": lambda: (
            f"Area `{s.name(str(f.get('area')))}`: R {_names(s, list(f['responsible']))}, "
            f"A {s.person(str(f['accountable'][0]))}, C {_names(s, list(f['consulted']))}, "
            f"I {_names(s, list(f['informed']))}."
            if "responsible" in f
            else "",
            None,
        ),
        "no_accountable": lambda: (
            f"Accountable `{s.name(str(f.get('accountable')))}` is not a person.",
            "Give the area's accountable as one Slack user ID (U...).",
        ),
        "no_responder": lambda: (
            f"The Responsible team `{s.name(str(f.get('team')))}` has no members and no "
            "on-call rotation: nobody would be paged.",
            "Give the team members or an `oncall` rotation.",
        ),
        "owner": lambda: (
            f"Accountable {s.person(str(f.get('accountable')))}; Responsible "
            f"{s.person(str(f.get('responder')))}.",
            None,
        ),
        "on_call": lambda: (
            f"Accountable {s.person(str(f.get('accountable')))}; on call now for "
            f"`{s.name(str(f.get('team')))}`: {s.person(str(f.get('user')))}.",
            None,
        ),
        "members": lambda: (
            f"Accountable {s.person(str(f.get('accountable')))}; `{s.name(str(f.get('team')))}` "
            f"pages its members ({', '.join(s.person(m) for m in f.get('members', []))}).",
            None,
        ),
        "defaulted": lambda: (
            "Not set in the config: firebell treats it as `internal` by default.",
            f"Write `classification:` (public, internal, confidential or pii) under "
            f"`services.{svc}`.",
        ),
        "set": lambda: (f"`{s.name(str(f.get('classification')))}`.", None),
        "no_policy": lambda: (
            "The config has no `pii` block: no masking policy was decided.",
            "Add a `pii` block (e.g. `pii: {mode: mask, scope: all}`).",
        ),
        "not_covered": lambda: (
            f"`pii.scope: {s.name(str(f.get('scope')))}` masks only confidential and pii "
            f"services, and this one is `{s.name(str(f.get('classification')))}`.",
            "Set `pii.scope: all`, or classify the service confidential or pii.",
        ),
        "masked": lambda: (
            f"Masked (`mode: {s.name(str(f.get('mode')))}`, `scope: "
            f"{s.name(str(f.get('scope')))}`).",
            None,
        ),
        "no_slo": lambda: (
            "No slo block.",
            f"Agree targets and write them under `services.{svc}.slo` (docs/slo.md).",
        ),
        "targets": lambda: (f"Targets: {_names(s, list(f.get('targets', [])))}.", None),
        "no_dashboard": lambda: (
            "No dashboard link.",
            f"Set `services.{svc}.dashboard` to the service's monitoring dashboard URL.",
        ),
        "linked": lambda: (
            f"<{f.get('url')}|dashboard>" if s is SLACK else str(f.get("url")),
            None,
        ),
        "no_rollback": lambda: (
            "No rollback block.",
            f"Add `services.{svc}.rollback` (url, secret_env, drill_every).",
        ),
        "no_drills": lambda: (
            "A rollback hook, but it is never drilled.",
            "Set `rollback.drill_every` (e.g. 7d): firebell then sends a dry run on schedule.",
        ),
        "never_drilled": lambda: (
            f"Drilled every {_every(f)}, but no drill has run yet.",
            "Wait for the first scheduled drill (soon after `firebell serve` starts).",
        ),
        "drill_failed": lambda: (
            f"The latest drill ({_at(s, f)}) failed." if "at" in f else "",
            "Fix the rollback receiver; the next drill runs on schedule.",
        ),
        "drill_running": lambda: (
            f"The latest drill ({_at(s, f)}) has not finished." if "at" in f else "",
            "Wait for its answer.",
        ),
        "drill_overdue": lambda: (
            f"The latest drill passed {_at(s, f)}, longer ago than every {_every(f)}."
            if "at" in f
            else "",
            "Check that `firebell serve` runs the drill schedule.",
        ),
        "drilled": lambda: (
            f"A drill passed {_at(s, f)} (every {_every(f)})." if "at" in f else "",
            None,
        ),
        "matched": lambda: (f"{_names(s, list(f.get('runbooks', [])))}.", None),
        "listed_absent": lambda: (
            f"The service lists {_names(s, list(f.get('runbooks', [])))}, but no such runbook "
            "exists.",
            "Add the Markdown file to the runbooks folder, or fix the name.",
        ),
        "no_runbook": lambda: (
            "No runbook is listed for the service or names it or its area.",
            f"Write one and list it under `services.{svc}.runbooks`.",
        ),
        "cases": lambda: (
            f"{f.get('count')} failure cases received in the last {f.get('days')} days.",
            None,
        ),
        "review": lambda: (
            "The weekly failure review is posted in "
            + (f"<#{f.get('channel')}>" if s is SLACK else str(f.get("channel")))
            + ".",
            None,
        ),
        "none": lambda: (
            f"No failure cases in the last {f.get('days')} days and no weekly review.",
            "Send failure cases to `POST /hooks/feedback`, or configure `review`.",
        ),
    }
    return words[item.reason]()


def done_count(readiness: Checklist) -> int:
    """How many items are done."""
    return sum(item.status == "done" for item in readiness.items)


def terminal_readiness(checklists: list[Checklist]) -> str:
    """`firebell readiness`: each service's checklist, one line an item."""
    out: list[str] = []
    for found in checklists:
        stage = found.stage or "internal, not set in the config"
        out.append(
            f"{found.service} (stage: {stage}): {done_count(found)} of {len(found.items)} done"
        )
        for item in found.items:
            said, todo = wording(item, found.service, TERMINAL)
            out.append(f"  [{item.status:<7}] {TITLES[item.key]}: {said}")
            if todo:
                out.append(f"            -> {todo}")
        out.append("")
    return "\n".join(out)


def json_readiness(checklists: list[Checklist]) -> str:
    """`firebell readiness --json`: the checklists as machine-readable JSON."""
    services = []
    for found in checklists:
        items = []
        for item in found.items:
            said, todo = wording(item, found.service, TERMINAL)
            items.append(
                {
                    "key": item.key,
                    "title": TITLES[item.key],
                    "status": item.status,
                    "reason": item.reason,
                    "facts": item.facts,
                    "detail": said,
                    "todo": todo,
                }
            )
        services.append(
            {
                "service": found.service,
                "stage": found.stage,
                "at": found.at.isoformat(),
                "done": done_count(found),
                "total": len(found.items),
                "items": items,
            }
        )
    return json.dumps({"services": services}, indent=2, default=str)


def slack_readiness(
    found: Checklist, *, viewer: str, stakeholders: Mapping[str, str], dashboard: str | None
) -> tuple[str, list[Block]]:
    """`/incident readiness <service>`: the checklist, `Sign off` buttons for the roles
    `viewer` may sign and has not signed over the current config, and the dashboard."""
    name = escape(found.service)
    stage = f"Stage: {found.stage or 'internal (not set in the config)'}"
    summary = f"Launch readiness of {name}: {done_count(found)} of {len(found.items)} done"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Launch readiness: {found.service}"[:150])),
        ContextBlock(elements=[MarkdownTextObject(text=f"{stage} · {summary}")]),
    ]
    for item in found.items:
        said, todo = wording(item, found.service, SLACK)
        text = f"{ICONS[item.status]} *{TITLES[item.key]}* ({item.status})\n{said}"
        if todo:
            text += f"\n_To do:_ {todo}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_cut(text))))
    signed = {
        s["role"]
        for item in found.items
        if item.key == "stakeholders"
        for s in item.facts.get("signed", [])
    }
    buttons: list[ButtonElement] = [
        ButtonElement(
            text=PlainTextObject(text=f"Sign off as {role}"[:75]),
            action_id=f"{SIGN_OFF_ACTION}:{role}"[:255],
            value=json.dumps({"service": found.service, "role": role})[:2000],
            style="primary",
        )
        for role, user in stakeholders.items()
        if user == viewer and role not in signed
    ][:20]
    if dashboard and dashboard.startswith(("https://", "http://")):
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="Open dashboard"),
                action_id=DASHBOARD_ACTION,
                url=dashboard[:3000],
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return summary, blocks


def _cut(text: str) -> str:
    return text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"
