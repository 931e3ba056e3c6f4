"""The engine and transactions.

Use cases are synchronous functions over one `Session`. The async edges run each one
in one transaction through `Store.run`, and nothing blocks the event loop:

- On PostgreSQL the function runs on the event loop inside a greenlet
  (`AsyncSession.run_sync`) and every statement is awaited with async psycopg. No
  threads: with a pool of threads each waiting on the server and re-taking the GIL
  from whatever Python code runs meanwhile, a one-row UPDATE took 15-35 ms at the
  median under a delivery storm (the GIL hands over every 5 ms), and a deadline
  firing 10 rows took half a second.
- SQLite answers from this process without a network wait, so there the function runs
  in a worker thread, on a single connection: writers queue in-process instead of
  spinning on SQLite's busy handler, which keeps tail latency flat.

`Store.call` is the blocking form, for the CLI, migrations and tests.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import anyio.to_thread
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel import Session, create_engine

from bot.priority import Foreground, Turns, in_foreground
from bot.store.batch import write_buffered
from bot.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer

P = ParamSpec("P")
T = TypeVar("T")
BACKGROUND_TRANSACTIONS = 4  # PostgreSQL transactions of delivery in flight at once
IDLE_BEFORE_PING = 5.0  # seconds a pooled PostgreSQL connection may idle unchecked
_CLOCK = "firebell.clock"


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
    engine = create_engine(url, **_PG_POOL)
    _watch_idle(engine)
    return engine


# Enough for every delivery lane (16), the claimer, the clock and requests at once:
# connections beyond `pool_size` are closed when handed back and reopened next time.
_PG_POOL: dict[str, Any] = {"pool_size": 24, "max_overflow": 16, "pool_recycle": 1800}


def _watch_idle(engine: Engine) -> None:
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Check a connection that sat idle (the server may have restarted meanwhile).

    `pool_pre_ping` would cost a round trip on every checkout, ~15 % of a delivery's
    database time under load; a connection handed back a moment ago is alive.
    """
    if time.monotonic() - record.info.get("checked_in", 0.0) < IDLE_BEFORE_PING:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # end the transaction the driver began for it
    except Exception as err:
        # The pool discards this connection and checks out a fresh one.
        raise exc.DisconnectionError(str(err)) from err


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    assert isinstance(dbapi_connection, sqlite3.Connection)  # noqa: S101
    # pysqlite's own transaction handling is off; we issue BEGIN ourselves below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Checkpoints are `WalCheckpointer`'s job; the writer's own is only a backstop.
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
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

    SQLite is single-host, so its clock is this host's. On PostgreSQL the clock is read
    through the `Store`'s `DatabaseClock` when the session comes from one.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return datetime.now(UTC)
    clock = session.info.get(_CLOCK)
    if isinstance(clock, DatabaseClock):
        return clock.now(session)
    return _read_clock(session)


def _read_clock(session: Session) -> datetime:
    value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    assert isinstance(value, datetime)  # noqa: S101
    return value.astimezone(UTC)


class DatabaseClock:
    """PostgreSQL's clock without a round trip per transaction.

    The server's `clock_timestamp()` is read every `refresh` seconds and carried forward
    on this host's monotonic clock in between, so the error is about half a round trip
    plus the drift of a few seconds: microseconds. Readings never go backwards.
    """

    def __init__(self, refresh: float = 10.0) -> None:
        self.refresh = refresh
        self._lock = threading.Lock()
        self._sample: tuple[float, datetime] | None = None  # (monotonic, server time)
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self, session: Session) -> datetime:
        """The server's time now."""
        sample = self._sample
        if sample is None or time.monotonic() - sample[0] > self.refresh:
            # Read without holding the lock: on PostgreSQL this statement is awaited on
            # the event loop, where another transaction may ask for the time meanwhile.
            before = time.monotonic()
            server = _read_clock(session)
            sample = ((before + time.monotonic()) / 2, server)
            self._sample = sample
        taken, server = sample
        estimate = server + timedelta(seconds=time.monotonic() - taken)
        with self._lock:
            self._last = max(self._last, estimate)
            return self._last


class Store:
    """Owns the engines; runs a function in one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The one record of foreground work in this process: requests, deadline ticks
        # and delivery all reach it through the store they share.
        self.foreground = Foreground()
        self.clock = DatabaseClock()
        self._async: AsyncEngine | None = None  # PostgreSQL, made on the first `run`
        # SQLite files: checkpoints off the writer's path, once `start`ed (`firebell serve`).
        self.checkpointer = WalCheckpointer.for_engine(engine)
        # SQLite: one connection, foreground first. PostgreSQL: a few background
        # transactions at once, foreground ones never wait (see `Turns`).
        self._turns = (
            Turns(BACKGROUND_TRANSACTIONS, foreground_waits=False)
            if is_postgres(engine)
            else Turns(1)
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together, or not at all."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.info[_CLOCK] = self.clock
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
        if self.checkpointer is not None:
            self.checkpointer.written()
        return result, self._info(session)

    def _info(self, session: Session) -> dict[Any, Any]:
        info = dict(session.info)
        info.pop(_CLOCK, None)
        return info

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, *args, **kwargs)` in one transaction, off the event loop."""
        return (await self.run_with_info(fn, *args, **kwargs))[0]

    async def run_with_info(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, dict[Any, Any]]:
        """Like `run`, also returning what the transaction noted in `session.info`.

        Background transactions (not inside `Foreground.running`) first wait while
        foreground work is in flight.
        """
        if not in_foreground():
            await self.foreground.wait_turn()
        async with self._turns.hold():
            if not is_postgres(self.engine):
                return await anyio.to_thread.run_sync(
                    lambda: self.call_with_info(fn, *args, **kwargs)
                )
            return await self._run_async(fn, *args, **kwargs)

    async def _run_async(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, dict[Any, Any]]:
        """PostgreSQL: run `fn` in a greenlet on the loop, each statement awaited."""

        def inside(orm_session: OrmSession) -> tuple[T, dict[Any, Any]]:
            session = cast(Session, orm_session)  # sync_session_class below
            session.info[_CLOCK] = self.clock
            result = fn(session, *args, **kwargs)
            write_buffered(session)
            return result, self._info(session)

        async with (
            AsyncSession(self._async_engine(), expire_on_commit=False, sync_session_class=Session)
            as session,
            session.begin(),
        ):
            return await session.run_sync(inside)

    def _async_engine(self) -> AsyncEngine:
        if self._async is None:
            url = self.engine.url.render_as_string(hide_password=False)
            self._async = create_async_engine(url, **_PG_POOL)
            _watch_idle(self._async.sync_engine)
        return self._async

    def start_checkpoints(self) -> None:
        """SQLite files: from now on, checkpoint the log in the background (`serve`)."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    def metrics(self) -> list[str]:
        """Prometheus lines of the store's own work (background checkpoints)."""
        return [] if self.checkpointer is None else self.checkpointer.metrics()

    def dispose(self) -> None:
        """Close pooled connections (the async pool's are dropped; see `aclose`)."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()
        if self._async is not None:
            self._async.sync_engine.dispose(close=False)
            self._async = None

    async def aclose(self) -> None:
        """Close every pooled connection, from the event loop that opened them."""
        if self.checkpointer is not None:
            await anyio.to_thread.run_sync(self.checkpointer.stop)
        if self._async is not None:
            await self._async.dispose()
            self._async = None
        self.engine.dispose()
