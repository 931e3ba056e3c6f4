"""Audit records of what arrives at the edges (a slash command, a button press, a hook
call) with how it ended, each in a small transaction of its own.

Its own transaction, because a refused or failed request's use case rolled back (and
took its staged records with it), and a refusal must be on the trail all the same. An
edge record never fails the request it records, and none is tried for a request that
failed for want of the database (the outage is logged where it is answered).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.audit.trail import audit
from bot.config.governance import Pii
from bot.core.pii import policy, redact
from bot.hooks.edge import is_authenticated
from bot.incidents.errors import UserError
from bot.store.db import Store, db_now
from bot.store.outage import describe, is_unreachable

log = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]
_REASON = 300  # characters of a refusal's reason kept
UNAVAILABLE = 503  # a hook's answer while the database cannot be reached
UNAUTHENTICATED = 401  # a hook's answer to a caller without the token or signature


def outcome_of(err: BaseException | None, pii: Pii | None = None) -> tuple[str, dict[str, Any]]:
    """How a request ended: ok, refused (a `UserError`, with its reason, masked as a
    log line is: it may quote what the user typed) or failed (anything else, with the
    error's type: its message may carry what nobody should read back)."""
    if err is None:
        return "ok", {}
    if isinstance(err, UserError):
        return "refused", {"reason": redact(str(err), policy(pii or Pii()))[:_REASON]}
    return "failed", {"error": type(err).__name__}


async def record_edge(
    store: Store,
    *,
    actor: str,
    action: str,
    source: str,
    error: BaseException | None = None,
    outcome: str | None = None,
    detail: dict[str, Any] | None = None,
    pii: Pii | None = None,
) -> None:
    """Record what arrived and how it ended (`outcome`, else `outcome_of(error)`), in
    its own transaction; a database error is logged, never raised. Not when the
    request failed for want of the database: nothing happened, nothing can be written,
    and the outage was logged where it was answered."""
    if error is not None and is_unreachable(error):
        return
    ended, why = outcome_of(error, pii)
    # What arrived is whatever a caller sent (a user id with a NUL, a lone surrogate):
    # kept as far as a database column can hold it.
    fields = {key: _storable(value) for key, value in {**(detail or {}), **why}.items()}

    def _record(session: Session) -> None:
        audit(
            session,
            at=db_now(session),
            actor=_storable(actor),
            action=action,
            source=source,
            outcome=outcome or ended,
            detail=fields,
        )

    try:
        await store.run(_record)
    except SQLAlchemyError as err:
        log.warning("could not record %s in the audit trail: %s", action, describe(err))


def _storable(value: Any) -> Any:
    """A text without control characters or lone surrogates; anything else as it is."""
    if not isinstance(value, str):
        return value
    return "".join(c for c in value if c.isprintable() and not "\ud800" <= c <= "\udfff")


def audited_hook(
    store: Store, name: str, endpoint: Endpoint, *, unauthenticated: Counter | None = None
) -> Endpoint:
    """`endpoint` (the `/hooks/<name>` one), recording each call as `hook.<name>` by
    `name`: ok (2xx), refused (4xx) or failed (5xx, or an error), with the status.

    Not a call refused before its caller proved who it is (a 401, or a 4xx before the
    endpoint marked the request `authenticated`): anyone can send those, and a record
    each would let a flood of them queue every commit behind the chain's head and grow
    the trail without bound. They are logged (one WARNING each, by `refused`) and
    counted in `unauthenticated` (`firebell_hook_unauthenticated`) instead.
    """
    record = partial(record_edge, store, actor=name, action=f"hook.{name}", source="hook")

    async def hook(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except Exception as err:
            await record(error=err)
            raise
        status = response.status_code
        if status == UNAVAILABLE:
            return response  # the database is away: nothing was kept, nothing can be
        if status == UNAUTHENTICATED or (400 <= status < 500 and not is_authenticated(request)):
            if unauthenticated is not None:
                unauthenticated.labels(name, str(status)).inc()
            return response
        outcome = "ok" if status < 400 else "refused" if status < 500 else "failed"
        await record(outcome=outcome, detail={"status": status})
        return response

    return hook
