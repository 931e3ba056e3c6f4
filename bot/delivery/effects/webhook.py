"""The rollback webhook: a signed POST to the service's configured URL, and its outcome.

The URL and the signing secret come from the config (and the environment) at delivery
time, never from the row or from what a user typed. Every attempt carries the
rollback's `webhook-id` (the receiver's idempotency key) and a fresh
`webhook-timestamp`. Connection errors, timeouts and 5xx are retried by the outbox
with backoff; a 2xx or 4xx answer is final and recorded at once; when the outbox gives
up, `rollback_given_up` fails the rollback.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlmodel import Session

from bot.config.duration import format_duration
from bot.core.pii import redact_for
from bot.delivery.retry import DeliveryError, PermanentError, TimedOutError, TransientError
from bot.delivery.slack import Claimed, Followup, Slack
from bot.incidents.rollback import finish, get_rollback
from bot.messages.rollback import drill_report
from bot.settings import environment
from bot.store.tables import Rollback
from bot.webhooks.standard import SecretError, signed_headers

CONNECT_TIMEOUT = 5.0  # seconds to connect to the receiver
TOTAL_TIMEOUT = 15.0  # seconds the whole request may take, answer included
# A rollback not taken by then is given up, not sent: an hour-old click may no longer
# be what the responders want (they may have fixed forward since).
PATIENCE = timedelta(minutes=10)


def body_of(row: Rollback, incident_ref: str | None) -> bytes:
    """The JSON body the receiver gets, built from the rollback row."""
    facts: dict[str, Any] = {
        "incident": incident_ref,
        "service": row.service,
        "environment": row.environment,
        "from_version": row.from_version,
        "to_version": row.to_version,
        "requested_by": row.requested_by,
        "reason": row.reason,
        "dry_run": row.dry_run,
    }
    return json.dumps(facts, separators=(",", ":")).encode()


def _ended(
    claimed: Claimed,
    *,
    succeeded: bool,
    message: str,
    status_code: int | None = None,
    duration_ms: int | None = None,
) -> Followup:
    return partial(
        finish,
        rollback_id=int(claimed.row.payload["rollback"]),
        succeeded=succeeded,
        status_code=status_code,
        duration_ms=duration_ms,
        message=message,
        report=list(claimed.row.payload.get("report") or []),
    )


async def rollback_webhook(slack: Slack, claimed: Claimed) -> Followup | None:
    """POST the rollback to its receiver; a final answer ends the rollback."""
    row = await slack.store.run(get_rollback, rollback_id=int(claimed.row.payload["rollback"]))
    if row is None:
        raise PermanentError(f"rollback {claimed.row.payload['rollback']} does not exist")
    if row.state != "running":
        return None  # ended already (a repeated delivery)
    service = slack.config.services.get(row.service)
    hook = None if service is None else service.rollback
    if hook is None:
        return _ended(claimed, succeeded=False, message=f"{row.service} has no rollback webhook")
    secret = environment().get(hook.secret_env) if hook.secret_env else None
    if not hook.secret_env or not secret:
        name = hook.secret_env or "(rollback.secret_env is not set)"
        return _ended(
            claimed,
            succeeded=False,
            message=f"not sent: the signing secret's environment variable {name} is not set",
        )
    waited = datetime.now(UTC) - row.requested_at
    if waited > PATIENCE:
        return _ended(
            claimed,
            succeeded=False,
            message=f"not sent: the receiver did not take it within {format_duration(PATIENCE)}"
            " of the confirmation; roll back again if it is still wanted",
        )
    body = body_of(row, claimed.incident.ref if claimed.incident else None)
    try:
        headers = signed_headers(secret, row.webhook_id, int(time.time()), body)
    except SecretError as err:
        return _ended(claimed, succeeded=False, message=f"not sent: {hook.secret_env}: {err}")
    started = time.monotonic()
    try:
        async with asyncio.timeout(TOTAL_TIMEOUT):
            answer = await slack.http.post(
                hook.url,
                content=body,
                headers={**headers, "content-type": "application/json"},
                timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
            )
    except (TimeoutError, httpx.TimeoutException) as err:
        raise TimedOutError(f"rollback webhook: no answer in time ({type(err).__name__})") from err
    except httpx.HTTPError as err:
        raise TransientError(f"rollback webhook: {type(err).__name__}: {err}") from err
    duration_ms = int((time.monotonic() - started) * 1000)
    if answer.status_code >= 500:
        raise TransientError(f"rollback webhook answered {answer.status_code}")
    return _ended(
        claimed,
        succeeded=answer.is_success,
        status_code=answer.status_code,
        duration_ms=duration_ms,
        message=redact_for(slack.config, row.service, answer.text),
    )


def rollback_given_up(
    session: Session, claimed: Claimed, error: DeliveryError, now: datetime
) -> None:
    """The outbox stopped trying: the rollback failed, and says why."""
    del now  # `finish` reads the database's clock
    _ended(claimed, succeeded=False, message=f"gave up: {error}")(session)


async def rollback_report(slack: Slack, claimed: Claimed) -> None:
    """Tell a drill's outcome to a team's channel or one member."""
    payload = claimed.row.payload
    row = await slack.store.run(get_rollback, rollback_id=int(payload["rollback"]))
    if row is None:
        raise PermanentError(f"rollback {payload['rollback']} does not exist")
    channel = payload.get("channel") or await slack.dm_channel(str(payload["user"]))
    await slack.post(claimed, str(channel), drill_report(row))
