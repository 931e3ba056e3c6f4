"""SQLite: copy the write-ahead log into the database from a thread of its own.

In WAL mode every commit appends pages to the log, and by default the connection that
commits past 1,000 pages of log copies them back into the database file itself (a
checkpoint), fsync included, before its commit returns. On firebell's one writing
connection that is a request's transaction taking several times its usual time,
every few hundred commits: under a burst of declarations, 5 % of transactions took
more than twice the median, against 0.7 % with this (`python -m bench.wal_checkpoint`).

`WalCheckpointer` runs passive checkpoints on its own connection, in a thread, shortly
after commits (at most every `every` seconds, and not at all while nothing is
written). A passive checkpoint never waits for readers or writers, and SQLite
releases the GIL while it copies, so the writer goes on meanwhile. The writer's own
automatic checkpoint stays as a backstop at `BACKSTOP_PAGES` (about 40 MB of log),
for a checkpointer that falls behind or is not running (the CLI, the tests' stores).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

BACKSTOP_PAGES = 10_000  # the writer checkpoints itself beyond this much log
EVERY = 0.1  # seconds between background checkpoints, at most one per interval


class WalCheckpointer:
    """Background passive checkpoints of one SQLite database file."""

    def __init__(self, path: str, *, every: float = EVERY) -> None:
        self.path = path
        self.every = every
        self.runs = 0
        self.seconds = 0.0
        self._written = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> WalCheckpointer | None:
        """A checkpointer for a file-backed SQLite engine; None for anything else."""
        if engine.dialect.name != "sqlite":
            return None
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return None
        return cls(database)

    def written(self) -> None:
        """Note a commit: a checkpoint follows within `every` seconds."""
        self._written.set()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._loop, name="firebell-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, letting a checkpoint under way finish."""
        self._stopping.set()
        self._written.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the WAL checkpoint thread is still busy after %.0f s", timeout)
                return
            self._thread = None

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        """One passive checkpoint on `connection`, counted."""
        started = time.perf_counter()
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.seconds += time.perf_counter() - started
        self.runs += 1

    def metrics(self) -> list[str]:
        """Prometheus lines for `/metrics`."""
        return [
            "# HELP firebell_sqlite_checkpoints_total Background WAL checkpoints run.",
            "# TYPE firebell_sqlite_checkpoints_total counter",
            f"firebell_sqlite_checkpoints_total {self.runs}",
            "# HELP firebell_sqlite_checkpoint_seconds_total Time spent in them.",
            "# TYPE firebell_sqlite_checkpoint_seconds_total counter",
            f"firebell_sqlite_checkpoint_seconds_total {self.seconds:.6f}",
        ]

    def _loop(self) -> None:
        try:
            connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                uri=self.path.startswith("file:"),
            )
        except sqlite3.Error as err:
            log.warning("WAL checkpoints stay with the writer: cannot open %s (%s)", self.path, err)
            return
        try:
            while True:
                self._written.wait()
                if self._stopping.is_set():
                    return
                self._written.clear()
                try:
                    self.checkpoint(connection)
                except sqlite3.Error as err:
                    log.warning("background WAL checkpoint failed (%s); will try again", err)
                if self._stopping.wait(self.every):
                    return
        finally:
            connection.close()
