"""The engine and transactions.

Use cases are synchronous functions over one `Session`; the async edges run each one
in a worker thread (`Store.run`), so one use case costs one thread hop whatever number
of statements it issues, and nothing blocks the event loop. SQLite gets a single
connection: writers queue in-process instead of spinning on SQLite's busy handler,
which keeps tail latency flat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from bot.store.batch import write_buffered

P = ParamSpec("P")
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Build the engine for `url` (SQLite or PostgreSQL) with sane pooling."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    assert isinstance(dbapi_connection, sqlite3.Connection)  # noqa: S101
    # pysqlite's own transaction handling is off; we issue BEGIN ourselves below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN, so a read-then-write transaction cannot fail with
    # SQLITE_BUSY half-way (other processes, like `firebell db upgrade`, may write).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    """True when the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def db_now(session: Session) -> datetime:
    """The database's clock: replicas compare deadlines against one clock.

    SQLite is single-host, so its clock is this host's.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, datetime)  # noqa: S101
        return value.astimezone(UTC)
    return datetime.now(UTC)


class Store:
    """Owns the engine; runs a function in one transaction, in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together, or not at all."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session
            write_buffered(session)

    def call(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, *args, **kwargs)` in one transaction (blocking)."""
        return self.call_with_info(fn, *args, **kwargs)[0]

    def call_with_info(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, dict[Any, Any]]:
        """Like `call`, also returning what the transaction noted in `session.info`."""
        with self.transaction() as session:
            result = fn(session, *args, **kwargs)
        return result, dict(session.info)

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, *args, **kwargs)` in one transaction, off the event loop."""
        return (await self.run_with_info(fn, *args, **kwargs))[0]

    async def run_with_info(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, dict[Any, Any]]:
        """Like `run`, also returning what the transaction noted in `session.info`."""
        return await anyio.to_thread.run_sync(lambda: self.call_with_info(fn, *args, **kwargs))

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
