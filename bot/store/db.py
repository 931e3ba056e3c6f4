"""The engine, the clock, and one transaction per use case.

Use cases are synchronous functions over one `Session`. `Store.call` runs one in a
transaction and blocks; `Store.run` does the same from the event loop, in a worker
thread of the store's own, so the loop never waits on the database. It is one
execution model for both databases, the plainest of those measured, and as fast as the
async one on the declare path (figures in docs/benchmarks.md):

- SQLite: one connection and one worker thread. Writers queue in arrival order in the
  executor instead of spinning in SQLite's busy handler, and a use case always reads
  what the ones before it committed. Delivery and the deadline clock share the thread,
  one transaction each in the queue at a time (`Store.sibling`), so a request waits
  behind at most one of each, however many lanes delivery has in flight.
- PostgreSQL: `PG_WORKERS` threads, each with a pooled psycopg connection. Use cases
  that touch one incident serialise on its row lock (`SELECT ... FOR UPDATE`), so the
  second reads what the first committed.

The async alternative (SQLAlchemy's greenlet bridge with async psycopg and aiosqlite)
runs the same use cases, but needs a second driver per database and a bridge a
maintainer must understand before touching a use case; the declare path does not need
what it would save.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel import Session, create_engine

from bot.audit.trail import install as install_audit_trail

P = ParamSpec("P")
T = TypeVar("T")
PG_WORKERS = 2  # PostgreSQL transactions of one process in flight at once
IDLE_BEFORE_PING = 5.0  # seconds a pooled PostgreSQL connection may idle unchecked
CONNECT_TIMEOUT = 2  # seconds to open a PostgreSQL connection before giving up
_CLOCK = "firebell.clock"

Info = dict[str, Any]  # what a transaction noted in `session.info` (see `Store.committed`)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Build the engine for `url` (SQLite or PostgreSQL)."""
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
    # A database host that drops packets would hold a request (Slack waits 3 s for its
    # answer) and delivery's thread for the TCP timeout; a URL may say otherwise.
    given = make_url(url).query
    connect = {} if "connect_timeout" in given else {"connect_timeout": CONNECT_TIMEOUT}
    # A connection per worker thread, delivery's and the clock's, one for /readyz; overflow.
    engine = create_engine(
        url, pool_size=PG_WORKERS + 3, max_overflow=4, pool_recycle=1800, connect_args=connect
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Check a connection that sat idle (the server may have restarted meanwhile).

    `pool_pre_ping` costs a round trip on every checkout, and delivery checks out a
    connection for every row; a connection handed back a moment ago is alive.
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
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN, so a read-then-write transaction cannot fail with
    # SQLITE_BUSY half-way (other processes, like `firebell db upgrade`, may write).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    """True when the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


class Clock(Protocol):
    """Where use cases read the time: the database's clock, or a test's."""

    def now(self, session: Session) -> datetime:
        """The time now, timezone-aware UTC."""


def db_now(session: Session) -> datetime:
    """The time of the transaction's store (see `DatabaseClock`)."""
    clock = session.info.get(_CLOCK)
    return clock.now(session) if clock is not None else DatabaseClock().now(session)


class DatabaseClock:
    """The database's clock, so that replicas compare deadlines against one clock.

    SQLite is single-host: its clock is this host's. PostgreSQL's `clock_timestamp()` is
    read every `refresh` seconds and carried forward on this host's monotonic clock in
    between (an error of half a round trip plus a few seconds' drift); readings never
    go backwards.
    """

    def __init__(self, refresh: float = 10.0) -> None:
        self.refresh = refresh
        self._lock = threading.Lock()
        self._sample: tuple[float, datetime] | None = None  # (monotonic, server time)
        self._last = datetime.min.replace(tzinfo=UTC)

    def now(self, session: Session) -> datetime:
        """The database's time now."""
        if session.get_bind().dialect.name != "postgresql":
            return datetime.now(UTC)
        sample = self._sample
        if sample is None or time.monotonic() - sample[0] > self.refresh:
            before = time.monotonic()
            server = session.execute(text("SELECT clock_timestamp()")).scalar_one()
            sample = ((before + time.monotonic()) / 2, server.astimezone(UTC))
            self._sample = sample
        taken, server = sample
        estimate = server + timedelta(seconds=time.monotonic() - taken)
        with self._lock:
            self._last = max(self._last, estimate)
            return self._last


class Store:
    """Owns the engine; runs a function in one transaction."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        workers: int | None = None,
        name: str = "db",
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or DatabaseClock()
        install_audit_trail()  # staged audit records are chained at each commit
        # Called on the event loop with each `run` transaction's info once it committed
        # (the app wakes delivery and the deadline clock from here).
        self.committed: list[Callable[[Info], None]] = []
        if workers is None:
            workers = PG_WORKERS if is_postgres(engine) else 1
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"firebell-{name}")
        # Set on a sibling sharing this store's thread (SQLite): bounds its transactions.
        self._share: asyncio.Semaphore | None = None

    def sibling(self, *, workers: int, name: str) -> Store:
        """A store on the same engine, clock and commit hooks for one background task,
        with at most `workers` of its transactions in flight.

        On PostgreSQL they run in threads of its own, never queued in front of this
        store's. On SQLite they share this store's one thread, whose queue is first come,
        first served (the one connection's pool is not: a thread that just gave the
        connection back can take it again before a waiting one wakes); so at most
        `workers` of them wait in front of a request. Create it on the running loop.
        """
        if is_postgres(self.engine):
            other = Store(self.engine, clock=self.clock, workers=workers, name=name)
        else:
            other = copy.copy(self)
            other._share = asyncio.Semaphore(workers)
        other.committed = self.committed
        return other

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together, or not at all."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.info[_CLOCK] = self.clock
            yield session

    def call(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, *args, **kwargs)` in one transaction (blocking)."""
        return self._call_with_info(fn, *args, **kwargs)[0]

    def _call_with_info(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, Info]:
        with self.transaction() as session:
            result = fn(session, *args, **kwargs)
        info = {k: v for k, v in session.info.items() if k != _CLOCK}
        return result, info

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(session, *args, **kwargs)` in one transaction, in a worker thread.

        A caller that is cancelled meanwhile does not stop the transaction: it commits
        or rolls back as a whole, whoever waits for it.
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(self._call_with_info, fn, *args, **kwargs)
        async with self._share or nullcontext():
            result, info = await loop.run_in_executor(self._executor, call)
        for hook in self.committed:
            hook(info)
        return result

    def close(self) -> None:
        """Stop the worker threads of its own (the engine stays open, for siblings)."""
        if self._share is None:
            self._executor.shutdown(wait=True)

    def dispose(self) -> None:
        """Stop the worker threads and close pooled connections."""
        self.close()
        self.engine.dispose()
