"""Turning failures into answers: domain errors as they are, a database outage as one
clear sentence, anything else with an error id."""

from __future__ import annotations

import logging
import uuid

from bot.incidents.errors import UserError
from bot.store.outage import describe, is_unreachable

log = logging.getLogger(__name__)

UNREACHABLE = (
    ":warning: firebell cannot reach its database; nothing was changed, try again in a minute."
)


def explain(err: Exception) -> str:
    """The message a user sees for `err`; unexpected errors are logged with an id."""
    if isinstance(err, UserError):
        return f":warning: {err}"
    if is_unreachable(err):
        # An outage, not a bug: one line, no traceback (the transaction rolled back whole).
        log.warning("answered that the database is unreachable: %s", describe(err))
        return UNREACHABLE
    error_id = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s", error_id, exc_info=err)
    return (
        f":x: Something went wrong on firebell's side (error id `{error_id}`). "
        "Nothing was half-done; try again, and give the id to whoever runs firebell."
    )
