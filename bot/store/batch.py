"""Append-only rows written in one multi-row INSERT per table at commit.

Timeline entries, audit records, outbox rows and deadlines are never read back in the
transaction that writes them, so building ORM objects for them (about 90 µs each with
SQLModel's validation) and flushing them one by one is wasted work on the hottest path
(a declaration writes ~20 of them). They are buffered as plain dicts and inserted just
before commit, after the ORM flush, in the order they were added.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

_BUFFER = "firebell.buffered_rows"


def add_row(session: Session, model: type[SQLModel], values: dict[str, Any]) -> None:
    """Insert `values` into `model`'s table when the transaction commits."""
    buffered: dict[type[SQLModel], list[dict[str, Any]]] = session.info.setdefault(_BUFFER, {})
    buffered.setdefault(model, []).append(values)


def write_buffered(session: Session) -> None:
    """Flush the ORM, then insert every buffered row (called by `Store.transaction`)."""
    buffered: dict[type[SQLModel], list[dict[str, Any]]] = session.info.pop(_BUFFER, {})
    if not buffered:
        return
    session.flush()
    for model, rows in buffered.items():
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
