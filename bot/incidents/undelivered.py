"""A page that could not be delivered is a fact of the incident, told in its channel.

Delivery gives up on a page only when Slack refuses it for good (an unknown user, a
deactivated account ...) or when it became moot while failing (the incident was
acknowledged or resolved meanwhile). Either way the responders must know who was not
reached, so they can page someone else or reach that person another way.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.incidents.records import record
from bot.store.tables import Incident


def page_undelivered(
    session: Session,
    incident: Incident,
    *,
    user: str,
    role: str,
    moot: str | None,
    error: str | None,
    at: datetime,
) -> None:
    """Record that `user` was not paged: Slack refused (`error`), or the page became
    `moot` (`acknowledged`, `resolved`) while Slack kept failing with `error`."""
    record(
        session,
        incident,
        "page_undelivered",
        at=at,
        actor="firebell",
        post=True,
        user=user,
        role=role,
        moot=moot,
        error=error or "",
    )
