"""Rollback in words: the confirmation modal, answers, timeline lines and drill reports.

Users' words (a reason, the receiver's answer) are escaped here, as everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.config.model import Config
from bot.core.escaping import escape
from bot.core.states import State
from bot.store.tables import Incident, Rollback

ROLLBACK = "incident_rollback"  # the button's action_id
CONFIRM_FORM = "rollback_confirm"  # the modal's callback_id
REASON = "reason"  # the reason input's block_id


def _version(version: object) -> str:
    return f"`{escape(str(version))}`" if version else "_unknown_"


def confirm_modal(
    *, incident_id: int, ref: str, service: str, environment: str, current: str | None, target: str
) -> View:
    """The confirmation: what will be rolled back, from what, to what, and why."""
    text = (
        f"Roll back *{escape(service)}* in *{escape(environment)}* for {ref}?\n"
        f"Current version: {_version(current)}\n"
        f"Target version: {_version(target)}\n"
        "firebell sends a signed request to the service's rollback webhook."
    )
    metadata = {"incident": incident_id, "service": service, "from": current, "to": target}
    return View(
        type="modal",
        callback_id=CONFIRM_FORM,
        title="Roll back",
        submit="Roll back",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            SectionBlock(block_id="plan", text=MarkdownTextObject(text=text)),
            InputBlock(
                block_id=REASON,
                label="Reason",
                optional=True,
                element=PlainTextInputElement(
                    action_id="value", max_length=500, placeholder="Wrong prices since v2.4.1"
                ),
            ),
        ],
    )


def no_previous_version(service: str, environment: str, current: str | None) -> str:
    """There is nothing to roll back to: nothing is sent."""
    known = f"only {_version(current)} is known" if current else "no deploy is recorded"
    return (
        f":warning: Cannot roll back *{escape(service)}* in *{escape(environment)}*: {known}, "
        "so there is no previous version. Nothing was sent. Deploys are reported to "
        "`POST /hooks/deploys`."
    )


def started_line(data: dict[str, Any], actor: str) -> str:
    """`@U started a rollback of svc (production) from v2 to v1: reason`."""
    reason = f": {escape(str(data['reason']))}" if data.get("reason") else ""
    return (
        f"{actor} started a rollback of {escape(str(data.get('service')))} "
        f"({escape(str(data.get('environment')))}) from {_version(data.get('from_version'))} "
        f"to {_version(data.get('to_version'))}{reason}"
    )


def finished_line(data: dict[str, Any]) -> str:
    """The outcome: status, duration and the receiver's answer."""
    what = "Rollback drill (dry run)" if data.get("dry_run") else "Rollback"
    verdict = "succeeded" if data.get("succeeded") else "failed"
    service = escape(str(data.get("service")))
    parts = [f"{what} of {service} to {_version(data.get('to_version'))} {verdict}"]
    if data.get("status_code") is not None:
        parts.append(f"HTTP {data['status_code']}")
    if data.get("duration_ms") is not None:
        parts.append(f"{data['duration_ms']} ms")
    line = " · ".join(parts)
    if data.get("message"):
        line += f"\n> {escape(str(data['message']))}"
    return line


def finished_icon(data: dict[str, Any]) -> str:
    """:white_check_mark: or :x:."""
    return ":white_check_mark:" if data.get("succeeded") else ":x:"


def drill_report(row: Rollback) -> str:
    """A drill's outcome, for the Responsible team."""
    facts = {
        "dry_run": True,
        "service": row.service,
        "to_version": row.to_version,
        "succeeded": row.state == "succeeded",
        "status_code": row.status_code,
        "duration_ms": row.duration_ms,
        "message": row.message,
    }
    return f"{finished_icon(facts)} {finished_line(facts)}"


def rollback_button(incident: Incident, config: Config) -> ButtonElement | None:
    """`Rollback`, on an unresolved incident whose service has a rollback webhook."""
    service = config.services.get(incident.service or "")
    if service is None or service.rollback is None or incident.state == State.RESOLVED:
        return None
    return ButtonElement(text="Rollback", action_id=ROLLBACK, value=str(incident.id))
