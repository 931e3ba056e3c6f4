"""Foreground work goes first: the SQLite turn lock and the delivery gate."""

from __future__ import annotations

import asyncio

from bot.priority import Foreground, Turns


def test_foreground_waiter_is_served_before_background_waiters_queued_earlier() -> None:
    """A deadline firing does not queue behind delivery steps for SQLite's connection."""
    order: list[str] = []

    async def scenario() -> None:
        lock, foreground = Turns(), Foreground()
        release = asyncio.Event()

        async def holder() -> None:
            async with lock.hold():
                await release.wait()

        async def background(name: str) -> None:
            async with lock.hold():
                order.append(name)

        async def urgent() -> None:
            async with foreground.running(), lock.hold():
                order.append("foreground")

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        tasks = [asyncio.create_task(background(f"delivery-{i}")) for i in range(3)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(urgent()))
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *tasks)

    asyncio.run(scenario())
    assert order == ["foreground", "delivery-0", "delivery-1", "delivery-2"]


def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    """Cancelling a task that waits for its turn leaves the lock usable."""

    async def scenario() -> bool:
        lock = Turns()
        release = asyncio.Event()

        async def holder() -> None:
            async with lock.hold():
                await release.wait()

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiting = asyncio.create_task(lock.hold().__aenter__())
        await asyncio.sleep(0)
        waiting.cancel()
        release.set()
        await first
        async with asyncio.timeout(1), lock.hold():
            return True

    assert asyncio.run(scenario())


def test_background_step_waits_for_foreground_work_but_not_forever() -> None:
    """`wait_turn` returns when foreground work ends, or after `max_defer` at most."""

    async def scenario() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        foreground = Foreground(max_defer=0.2)
        done = asyncio.Event()

        async def request(seconds: float) -> None:
            async with foreground.running():
                await asyncio.sleep(seconds)
            done.set()

        task = asyncio.create_task(request(0.05))
        await asyncio.sleep(0)
        started = loop.time()
        await foreground.wait_turn()
        short = loop.time() - started
        await task
        task = asyncio.create_task(request(1.0))
        await asyncio.sleep(0)
        started = loop.time()
        await foreground.wait_turn()
        capped = loop.time() - started
        task.cancel()
        return short, capped

    short, capped = asyncio.run(scenario())
    assert 0.04 <= short < 0.15
    assert 0.19 <= capped < 0.5
