"""Append-only rows written in one multi-row INSERT per table at commit.

Timeline entries, audit records, outbox rows and deadlines are never read back in the
transaction that writes them, so building ORM objects for them (about 90 µs each with
SQLModel's validation) and flushing them one by one is wasted work on the hottest path
(a declaration writes ~20 of them). They are buffered as plain dicts and inserted just
before commit, after the ORM flush, in the order they were added.

On PostgreSQL each table's rows go as one statement with one array per column
(`INSERT ... SELECT ... FROM unnest(...)`): its text is the same for any number of
rows, so psycopg converts it once and the server prepares it once, where an
executemany sent, bound and answered every row on its own (most of a declaration's
database CPU in `bench.ack_path`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Enum, Integer, String, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert
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
    runs: list[tuple[Table, _Plan | None, list[dict[str, Any]]]] = []
    for model, rows in buffered.items():
        table: Table = model.__table__  # type: ignore[attr-defined]
        # Consecutive rows with the same columns go in one statement; order is kept
        # (an outbox lane is delivered in id order).
        for keys, run in itertools.groupby(rows, key=tuple):
            runs.append((table, _plan(table, connection.dialect, keys), list(run)))
    if len(runs) > 1 and _one_statement(runs):
        plans = tuple(plan for _, plan, _ in runs if plan is not None)
        parameters = tuple(column for plan, (_, _, rows) in zip(plans, runs, strict=True)
                           for column in plan.columns(rows))
        connection.exec_driver_sql(_together_sql(plans), parameters)
        return
    for table, plan, same in runs:
        if plan is None:
            connection.execute(insert(table), same)
        elif plan.columnar:
            connection.exec_driver_sql(plan.sql, plan.columns(same))
        else:
            connection.exec_driver_sql(plan.sql, plan.parameters(same))


def _one_statement(runs: list[tuple[Table, _Plan | None, list[dict[str, Any]]]]) -> bool:
    """Whether the runs can go as one statement: columnar plans (PostgreSQL), each
    table once (the parts of one statement run in no set order, so two runs into one
    table could swap their ids)."""
    tables = [table for table, _, _ in runs]
    return len(set(tables)) == len(tables) and all(
        plan is not None and plan.columnar for _, plan, _ in runs
    )


@functools.cache
def _together_sql(plans: tuple[_Plan, ...]) -> str:
    """One statement running every plan's INSERT: all but the last as data-modifying
    `WITH` parts (PostgreSQL runs each exactly once, to completion)."""
    parts = ", ".join(f"w{i} AS ({plan.sql})" for i, plan in enumerate(plans[:-1]))
    return f"WITH {parts} {plans[-1].sql}"


def insert_returning(
    session: Session,
    model: type[SQLModel],
    rows: list[dict[str, Any]],
    returning: tuple[str, ...],
) -> list[tuple[Any, ...]]:
    """Insert `rows` (all with the same keys) now, in one statement; return the
    `returning` columns of each row (not necessarily in the order given)."""
    if not rows:
        return []
    connection = session.connection()
    table: Table = model.__table__  # type: ignore[attr-defined]
    plan = _plan(table, connection.dialect, tuple(rows[0]))
    if plan is None or not plan.columnar:
        statement = _insert_returning(table, returning)
        return [tuple(row) for row in connection.execute(statement, rows)]
    sql = _columnar_returning(plan, connection.dialect, returning)
    return [tuple(row) for row in connection.exec_driver_sql(sql, plan.columns(rows))]


@functools.cache
def _insert_returning(table: Table, returning: tuple[str, ...]) -> Insert:
    """SQLAlchemy's INSERT ... RETURNING, built once (declarations use it every batch)."""
    return insert(table).returning(*(table.c[name] for name in returning))


@functools.cache
def _columnar_returning(plan: _Plan, dialect: Dialect, returning: tuple[str, ...]) -> str:
    quote = dialect.identifier_preparer.quote
    return f"{plan.sql} RETURNING {', '.join(quote(name) for name in returning)}"


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
    columnar: bool = False  # one array per column (PostgreSQL), not one set per row

    def parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        """An executemany's parameter sets, one per row."""
        pairs = tuple(zip(self.names, self.convert, strict=True))
        converted = [
            [row[name] if fn is None else fn(row[name]) for name, fn in pairs]
            for row in rows
        ]
        if self.positional:
            return [tuple(values) for values in converted]
        return [dict(zip(self.names, values, strict=True)) for values in converted]

    def columns(self, rows: list[dict[str, Any]]) -> tuple[list[Any], ...]:
        """The columnar statement's one parameter set: a list of values per column."""
        return tuple(
            [row[name] for row in rows] if fn is None else [fn(row[name]) for row in rows]
            for name, fn in zip(self.names, self.convert, strict=True)
        )


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
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        arrays = [_array_type(table, name) for name in names]
        if all(arrays):
            sql = _unnest_sql(table, dialect, names, arrays)
            return _Plan(sql, names, convert, True, columnar=True)
    return _Plan(compiled.string, names, convert, compiled.positional)


def _array_type(table: Table, name: str) -> str | None:
    """The PostgreSQL array type a column's values travel in (None: not known here).

    Strings go as `text[]`, not `varchar(n)[]`: an explicit cast to `varchar(n)` would
    cut a long value short, where the INSERT's own assignment refuses it.
    """
    column_type = table.c[name].type
    impl = getattr(column_type, "impl", column_type)  # a TypeDecorator's own type
    if isinstance(impl, Enum):  # a native enum has no cast from text
        return None
    if isinstance(impl, DateTime):
        return "timestamptz[]" if impl.timezone else "timestamp[]"
    for sql_type, array in (
        (Boolean, "boolean[]"),
        (Integer, "bigint[]"),
        (JSON, "json[]"),
        (String, "text[]"),
    ):
        if isinstance(impl, sql_type):
            return array
    return None


def _unnest_sql(
    table: Table, dialect: Dialect, names: tuple[str, ...], arrays: list[str | None]
) -> str:
    """INSERT of the rows whose columns arrive as arrays, in the arrays' order."""
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    unnest = ", ".join(f"%b::{array}" for array in arrays)
    # Only the table's own names and fixed type names are formatted in; values are bound.
    return (
        f"INSERT INTO {quote.format_table(table)} ({columns}) "  # noqa: S608
        f"SELECT {aliases} FROM unnest({unnest}) WITH ORDINALITY AS u({aliases}, n) ORDER BY n"
    )
