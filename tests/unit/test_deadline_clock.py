"""The deadline clock wakes for every due row, not only on its slow poll."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine

from bot.clock import scheduler
from bot.clock.firing import Firing
from bot.clock.scheduler import DeadlineClock
from bot.config.model import Config
from bot.store.db import Store


class DirectStore(Store):
    """Runs each function on the event loop with no session: the clock's logic only."""

    async def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call `fn(None, ...)`, like a transaction would with a session."""
        await asyncio.sleep(0.01)  # the tick is still running when it re-arms
        return fn(None, *args, **kwargs)


def run_clock(config: Config, until: Callable[[], bool], clocks: list[DeadlineClock]) -> None:
    """Run a clock (appended to `clocks`) with a one-minute poll until `until()`, 2 s at most."""

    async def scenario() -> None:
        clock = DeadlineClock(
            store=DirectStore(create_engine("sqlite://")),
            config=config,
            owner="test",
            on_fired=lambda: None,
            poll_interval=60.0,
        )
        clocks.append(clock)
        clock.start()
        try:
            for _ in range(200):
                if until():
                    break
                await asyncio.sleep(0.01)
        finally:
            clock.stop()

    asyncio.run(scenario())


def test_a_row_already_due_when_the_tick_ends_fires_without_waiting_for_the_poll(
    monkeypatch: pytest.MonkeyPatch, fast_config: Config
) -> None:
    """Each tick that finds the next row already due re-arms and fires it at once."""
    ticks: list[datetime] = []
    rows = 5

    def fire_due(_session: object, _config: Config, **_kwargs: object) -> Firing:
        ticks.append(datetime.now(UTC))
        # Another row came due while this tick ran, until all `rows` have fired.
        upcoming = datetime.now(UTC) - timedelta(milliseconds=1) if len(ticks) < rows else None
        return Firing(fired=[], busy=[], full=False, upcoming=upcoming)

    monkeypatch.setattr(scheduler, "fire_due", fire_due)
    run_clock(fast_config, lambda: len(ticks) >= rows, [])
    assert len(ticks) == rows
    assert ticks[-1] - ticks[0] < timedelta(seconds=1)


@pytest.mark.parametrize("offset_ms", [-1, 50])
def test_a_row_committed_while_a_tick_runs_is_not_forgotten_when_it_ends(
    monkeypatch: pytest.MonkeyPatch, fast_config: Config, offset_ms: int
) -> None:
    """A wake-up another transaction asked for during a tick survives the tick's own."""
    ticks: list[datetime] = []
    clocks: list[DeadlineClock] = []

    def fire_due(_session: object, _config: Config, **_kwargs: object) -> Firing:
        ticks.append(datetime.now(UTC))
        if len(ticks) == 1:  # a use case commits a row due soon, mid-tick
            clocks[0].due_at(datetime.now(UTC) + timedelta(milliseconds=offset_ms))
        return Firing(upcoming=datetime.now(UTC) + timedelta(minutes=10))

    monkeypatch.setattr(scheduler, "fire_due", fire_due)
    run_clock(fast_config, lambda: len(ticks) >= 2, clocks)
    assert len(ticks) == 2
