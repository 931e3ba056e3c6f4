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
import contextlib
from collections.abc import AsyncIterator

MAX_DEFER = 0.25  # seconds a background step waits for the foreground at most


class Foreground:
    """Counts foreground work in flight; background steps wait until there is none."""

    def __init__(self, max_defer: float = MAX_DEFER) -> None:
        self.max_defer = max_defer
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def busy(self) -> bool:
        """True while foreground work is in flight."""
        return self._active > 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Mark the enclosed work as foreground."""
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def wait_turn(self) -> None:
        """Before a background step: wait while foreground work runs (bounded)."""
        if self._active:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.max_defer)
