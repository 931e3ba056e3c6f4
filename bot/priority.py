"""Foreground first: work someone is waiting on runs before background delivery.

Everything in a firebell process shares one event loop. A request being answered, or a
deadline being fired, awaits the database a dozen times; each time, the loop runs every
other ready task before coming back to it. In a delivery storm that is sixteen lanes
each rendering Block Kit and parsing Slack's answers, so each await cost a loop round
of several milliseconds and a deadline fired 100 ms late. While foreground work is in
flight, delivery lanes wait before their next step (up to `MAX_DEFER` seconds, so a
steady stream of requests slows delivery down but never stops it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
from collections.abc import AsyncIterator

MAX_DEFER = 0.25  # seconds a background step waits for the foreground at most
_FOREGROUND = contextvars.ContextVar("firebell_foreground", default=False)


def in_foreground() -> bool:
    """True inside `Foreground.running()` (in this task, and tasks it starts)."""
    return _FOREGROUND.get()


class Foreground:
    """Counts foreground work in flight; background steps wait until there is none."""

    def __init__(self, max_defer: float = MAX_DEFER) -> None:
        self.max_defer = max_defer
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Mark the enclosed work as foreground."""
        self._active += 1
        self._idle.clear()
        token = _FOREGROUND.set(True)
        try:
            yield
        finally:
            _FOREGROUND.reset(token)
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def wait_turn(self) -> None:
        """Before a background step: wait while foreground work runs (bounded)."""
        if self._active:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.max_defer)


class Turns:
    """At most `capacity` holders at once; foreground waiters go before background ones.

    SQLite has one connection (`capacity` 1): without priorities a deadline firing
    waited for it behind every delivery step queued before it. On PostgreSQL each
    transaction runs on the event loop in slices between statements; a few background
    transactions at once keep the loop's rounds short, and foreground transactions
    do not wait at all (`foreground_waits` False).
    """

    def __init__(self, capacity: int = 1, *, foreground_waits: bool = True) -> None:
        self.capacity = capacity
        self.foreground_waits = foreground_waits
        self._holders = 0
        self._waiters: dict[bool, collections.deque[asyncio.Future[None]]] = {
            True: collections.deque(),
            False: collections.deque(),
        }

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Take a turn; foreground callers (see `in_foreground`) are served first."""
        foreground = in_foreground()
        if foreground and not self.foreground_waits:
            yield
            return
        if self._holders >= self.capacity or any(self._waiters.values()):
            waiter = asyncio.get_running_loop().create_future()
            queue = self._waiters[foreground]
            queue.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # the turn was handed to us as we were cancelled
                else:
                    queue.remove(waiter)
                raise
        else:
            self._holders += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        for queue in (self._waiters[True], self._waiters[False]):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the turn passes on: still held
                    return
        self._holders -= 1
