"""Append-only rows written in one multi-row INSERT per table at commit.

Timeline entries, audit records, outbox rows and deadlines are never read back in the
transaction that writes them, so building ORM objects for them (about 90 µs each with
SQLModel's validation) and flushing them one by one is wasted work on the hottest path
(a declaration writes ~20 of them). They are buffered as plain dicts and inserted just
before commit, after the ORM flush, in the order they were added.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
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
    connection = session.connection()
    for model, rows in buffered.items():
        table: Table = model.__table__  # type: ignore[attr-defined]
        # Consecutive rows with the same columns go in one statement; order is kept
        # (an outbox lane is delivered in id order).
        for keys, run in itertools.groupby(rows, key=tuple):
            same = list(run)
            plan = _plan(table, connection.dialect, keys)
            if plan is None:
                connection.execute(insert(table), same)
            else:
                connection.exec_driver_sql(plan.sql, plan.parameters(same))


@dataclass(frozen=True)
class _Plan:
    """A multi-row INSERT of given columns, compiled once, run through the driver.

    SQLAlchemy's executemany builds each row's parameters through the compiled
    statement (about 20 µs a row); this applies the same type conversions straight
    to each row, and hands the driver the SQL SQLAlchemy compiled.
    """

    sql: str
    names: tuple[str, ...]  # row keys in the statement's parameter order
    convert: tuple[Callable[[Any], Any] | None, ...]
    positional: bool

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        pairs = tuple(zip(self.names, self.convert, strict=True))
        converted = [
            [row[name] if fn is None else fn(row[name]) for name, fn in pairs]
            for row in rows
        ]
        if self.positional:
            return [tuple(values) for values in converted]
        return [dict(zip(self.names, values, strict=True)) for values in converted]


@functools.cache
def _plan(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
    """The driver-level INSERT of `keys` into `table`; None when SQLAlchemy must fill
    in more than the given values (a column default), and so must run it itself."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    if sorted(names) != sorted(keys):
        return None
    convert = tuple(
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    return _Plan(compiled.string, names, convert, compiled.positional)
