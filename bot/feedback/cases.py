"""Keeping a body of failure cases, and what `/incident feedback` and `firebell
feedback` read (use cases, one transaction each)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config.model import Config
from bot.core.pii import redact_for
from bot.feedback.model import FailureEvent
from bot.store.db import db_now
from bot.store.feedback import case_counts, insert_cases, latest_cases
from bot.store.tables import FailureCase


@dataclass(frozen=True)
class Kept:
    """What a body did: the cases kept, by (service, kind), and how many were repeats of
    a ref already kept (in an earlier body or earlier in this one)."""

    kept: Counter[tuple[str, str]]
    repeated: int

    @property
    def count(self) -> int:
        """How many cases were kept."""
        return sum(self.kept.values())


def keep_cases(session: Session, config: Config, events: Sequence[FailureEvent]) -> Kept:
    """Keep every case of a body in this transaction, each ref once per service and kind
    (cases with a ref first, in ref order; then the others, in the body's order); a case
    without `at` happened now (the database's clock)."""
    now = db_now(session)
    rows = [
        {
            "service": event.service,
            "kind": event.kind,
            "ref": event.ref,
            "text": redact_for(config, event.service, event.text),
            "confidence": event.confidence,
            "at": event.at or now,
            "received_at": now,
        }
        for event in events
    ]
    # Inserted in the order of their (service, kind, ref): two bodies holding the same
    # refs in another order then wait for each other instead of deadlocking (PostgreSQL).
    rows.sort(key=lambda row: (row["ref"] is None, row["service"], row["kind"], row["ref"] or ""))
    kept = Counter(insert_cases(session, rows))
    return Kept(kept=kept, repeated=len(rows) - sum(kept.values()))


@dataclass(frozen=True)
class Summary:
    """The cases of a period: counts by (service, kind) and the newest examples.

    `now` is the period's end: the moment of reading, or the `until` asked for."""

    since: datetime
    now: datetime
    counts: list[tuple[str, str, int]]
    latest: list[FailureCase]


def summarise(
    session: Session,
    *,
    over: timedelta,
    until: datetime | None = None,
    service: str | None = None,
    examples: int = 10,
    unquoted: Collection[str] = (),
) -> Summary:
    """The counts and newest `examples` cases of the last `over` (of one service or all).

    Without `until`, up to now and every case since (one dated ahead too); with it, the
    `over` before `until`, `until` itself excluded (a past week: `over=7d, until=end`).
    The examples leave out the `unquoted` services' cases (counted all the same).
    """
    now = db_now(session) if until is None else until
    since = now - over
    return Summary(
        since=since,
        now=now,
        counts=case_counts(session, since=since, until=until, service=service),
        latest=latest_cases(
            session, since=since, until=until, service=service, exclude=unquoted, limit=examples
        ),
    )
