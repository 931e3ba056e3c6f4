"""Turning failures into answers: domain errors as they are, others with an error id."""

from __future__ import annotations

import logging
import uuid

from bot.incidents.errors import UserError

log = logging.getLogger(__name__)


def explain(err: Exception) -> str:
    """The message a user sees for `err`; unexpected errors are logged with an id."""
    if isinstance(err, UserError):
        return f":warning: {err}"
    error_id = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s", error_id, exc_info=err)
    return (
        f":x: Something went wrong on firebell's side (error id `{error_id}`). "
        "Nothing was half-done; try again, and give the id to whoever runs firebell."
    )
