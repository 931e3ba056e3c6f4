"""Audit records of Slack's interactions: a button press (`button.<action_id>`) or a form
submission (`form.<callback_id>`), with how it ended. One call in each listener, after
its answer (Slack is waiting for that); the record is its own small transaction
(`bot.audit.edge`), so a refused press is on the trail though its use case rolled back.
"""

from __future__ import annotations

from typing import Any

from bot.audit.edge import record_edge
from bot.runtime import Runtime


async def audit_press(
    runtime: Runtime, body: dict[str, Any], error: Exception | None, *, outcome: str | None = None
) -> None:
    """The press's record: its button, its value (an incident's or a follow-up's id, or
    none in a forged press) and `error`'s outcome (or `outcome`)."""
    action = (body.get("actions") or [{}])[0]
    value = str(action.get("value") or "")
    await record_edge(
        runtime.store,
        actor=_user(body),
        action=f"button.{str(action.get('action_id', 'unknown'))[:50]}",
        source="slack",
        error=error,
        outcome=outcome,
        detail={"value": value[:40]},
        pii=runtime.config.pii,
    )


async def audit_submission(
    runtime: Runtime, body: dict[str, Any], error: Exception | None, *, outcome: str | None = None
) -> None:
    """The form submission's record: its form and `error`'s outcome (or `outcome`)."""
    view = body.get("view") or {}
    await record_edge(
        runtime.store,
        actor=_user(body),
        action=f"form.{str(view.get('callback_id', 'unknown'))[:50]}",
        source="slack",
        error=error,
        outcome=outcome,
        pii=runtime.config.pii,
    )


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    return str(user.get("id", "") if isinstance(user, dict) else "")[:40]
