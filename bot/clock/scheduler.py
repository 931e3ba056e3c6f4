"""The clock of deadlines: APScheduler wakes us, the database says what is due.

APScheduler keeps nothing that matters (in-memory job store): one `date` job is set to
the earliest pending deadline this process knows of, and an `interval` job polls so
that deadlines written by other replicas, or missed while the process was down, are
found within `poll_interval`. Whatever wakes it, a tick fires every due row, one
batch of them per transaction, through `bot.clock.firing.fire_due`.

The jobs only *wake* a driver task; they never fire deadlines themselves. A tick ends
by re-arming the `date` job, often for a row that is already due. Were the tick the
job, APScheduler would see that job still running (`max_instances` 1), refuse the new
run ("maximum number of running instances reached") and, a `date` job having no next
run, drop it: nothing would fire until the next poll, up to `poll_interval` late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock.firing import Firing, fire_due
from bot.clock.kinds import KINDS, Kinds
from bot.config.model import Config
from bot.incidents.escalation import ESCALATE
from bot.metrics import Metrics
from bot.store.db import Store
from bot.store.outage import Outage

log = logging.getLogger(__name__)
_DUE_JOB = "next-deadline"
# Seconds between the end of a tick and the next. A due row waits at most this long;
# rows coming due close together fire in one transaction, not one each, and replicas
# all woken for the same row spend one empty transaction per gap, not per row.
TICK_GAP = 0.02


class DeadlineClock:
    """Fires due deadlines of this process's database."""

    def __init__(
        self,
        *,
        store: Store,
        config: Config,
        owner: str,
        on_fired: Callable[[], None],
        poll_interval: float = 5.0,
        kinds: Kinds = KINDS,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self.config = config
        self.owner = owner
        self.on_fired = on_fired
        self.poll_interval = poll_interval
        self.fired = 0
        self.metrics = metrics
        self._outage = Outage("the deadline clock", log)
        self._next: datetime | None = None
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._wake = asyncio.Event()
        self._driver: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling at once (catching up on whatever came due while down).

        Call it from the running event loop.
        """
        self._driver = asyncio.get_running_loop().create_task(self._drive(), name="deadline clock")
        self._scheduler.add_job(
            self.kick,
            "interval",
            seconds=self.poll_interval,
            id="poll",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    def stop(self) -> None:
        """Stop the clock; deadlines stay in the database for whoever runs next."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._driver is not None:
            self._driver.cancel()
            self._driver = None

    async def kick(self) -> None:
        """Wake the driver (the scheduler's jobs call this; it returns at once)."""
        self._wake.set()

    async def _drive(self) -> None:
        """Tick whenever woken; wakes that arrive during a tick give one more tick."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.tick()
            await asyncio.sleep(TICK_GAP)

    def due_at(self, at: datetime) -> None:
        """A deadline at `at` was just committed: wake up for it if it is the earliest.

        One due already wakes the driver at once, not through a job: a tick ending
        meanwhile re-arms the job for its own next row, and would drop this one.
        """
        if at <= datetime.now(UTC):
            self._wake.set()
            return
        if self._next is not None and self._next <= at and self._scheduler.get_job(_DUE_JOB):
            return
        self._next = at
        self._scheduler.add_job(
            self.kick,
            "date",
            run_date=at,
            id=_DUE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _measure(self, firing: Firing) -> None:
        """Record how late the committed deadlines fired, and the escalations among them."""
        if self.metrics is None:
            return
        for kind, late in firing.late:
            self.metrics.lateness.labels(kind).observe(max(late, 0.0))
            if kind == ESCALATE:
                self.metrics.escalations.inc()

    async def tick(self) -> None:
        """Fire every due deadline, then set the wake-up for the next one."""
        busy: set[int] = set()
        failed: set[int] = set()
        try:
            while True:
                firing = await self.store.run(
                    fire_due,
                    self.config,
                    kinds=self.kinds,
                    owner=self.owner,
                    skip=frozenset(busy | failed),
                )
                busy.update(firing.busy)
                failed.update(firing.failed)
                if firing.fired:
                    self.fired += len(firing.fired)
                    self._measure(firing)
                    self.on_fired()
                if not firing.full:
                    break
            upcoming = firing.upcoming
        except Exception as err:
            # The next poll tries again; a deadline that came due meanwhile fires then
            # (claims compare with the database's clock, so none is skipped).
            self._outage.failed(err, "firing deadlines")
            return
        self._outage.succeeded()
        if self._scheduler.get_job(_DUE_JOB) is None:
            self._next = None  # the job that woke this tick has run; none is set for later
        # Else a commit during the tick set it for a row this tick may not have seen.
        if busy:
            # Skipped while a change held their incident: look again very soon.
            self.due_at(datetime.now(UTC) + timedelta(milliseconds=20))
        elif upcoming is not None:
            self.due_at(upcoming)
