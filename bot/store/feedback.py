"""Queries over failure cases: keeping a batch once per ref, the latest cases, counts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.store.tables import FailureCase

# `ON CONFLICT DO NOTHING` on (service, kind, ref): the same ref again, even in two
# batches at the same moment, is kept once, and the later transaction waits for the
# earlier one instead of failing on a unique violation. Rows without a ref never clash.
_INSERTS = {
    dialect: make_insert(FailureCase)
    .on_conflict_do_nothing(index_elements=["service", "kind", "ref"])
    .returning(col(FailureCase.service), col(FailureCase.kind))
    for dialect, make_insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def insert_cases(session: Session, rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """Insert each row unless its (service, kind, ref) is kept; (service, kind) of each
    row inserted."""
    statement = _INSERTS[session.get_bind().dialect.name]
    connection = session.connection()
    inserted: list[tuple[str, str]] = []
    for row in rows:  # one statement per row: RETURNING of a multi-row insert is unordered
        found = connection.execute(statement, row).first()
        if found is not None:
            inserted.append((str(found[0]), str(found[1])))
    return inserted


def latest_cases(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    service: str | None = None,
    exclude: Collection[str] = (),
    limit: int,
) -> list[FailureCase]:
    """The newest `limit` cases (by `at`), of one service or all (but those in `exclude`),
    since a time or ever (and before `until`, if given)."""
    query = select(FailureCase)
    if service is not None:
        query = query.where(col(FailureCase.service) == service)
    if exclude:
        query = query.where(col(FailureCase.service).not_in(list(exclude)))
    if since is not None:
        query = query.where(col(FailureCase.at) >= since)
    if until is not None:
        query = query.where(col(FailureCase.at) < until)
    query = query.order_by(col(FailureCase.at).desc(), col(FailureCase.id).desc()).limit(limit)
    return list(session.execute(query).scalars())


def case_counts(
    session: Session,
    *,
    since: datetime,
    until: datetime | None = None,
    service: str | None = None,
) -> list[tuple[str, str, int]]:
    """(service, kind, how many) of the cases since `since` (and before `until`, if
    given), by service and kind."""
    query = select(col(FailureCase.service), col(FailureCase.kind), func.count()).where(
        col(FailureCase.at) >= since
    )
    if until is not None:
        query = query.where(col(FailureCase.at) < until)
    if service is not None:
        query = query.where(col(FailureCase.service) == service)
    query = query.group_by(FailureCase.service, FailureCase.kind).order_by(
        FailureCase.service, FailureCase.kind
    )
    return [(str(s), str(k), int(n)) for s, k, n in session.execute(query).all()]
