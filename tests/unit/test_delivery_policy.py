"""Retry backoff and channel pacing."""

from __future__ import annotations

import random

from bot.delivery.pacing import ChannelPacer
from bot.delivery.retry import Backoff


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    """Each delay lies in [ceiling/2, ceiling], ceiling doubling up to the cap."""
    backoff = Backoff(base=1.0, cap=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delay = backoff.delay(attempt, rng).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


def test_pacer_allows_a_burst_then_one_message_a_second() -> None:
    """Three messages go at once; the fourth waits about a second."""
    now = [100.0]
    pacer = ChannelPacer(per_second=1.0, burst=3, clock=lambda: now[0])
    assert [pacer.reserve("C1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.reserve("C1") == 1.0
    assert pacer.reserve("C2") == 0.0


def test_released_token_can_be_taken_again() -> None:
    """A reservation handed back leaves the channel as it was."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    assert pacer.reserve("C1") == 0.0
    assert pacer.reserve("C1") == 1.0
    pacer.release("C1")
    assert pacer.reserve("C1") == 1.0


def test_pacer_refills_over_time() -> None:
    """After a quiet second a channel may send again at once."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    assert pacer.reserve("C1") == 0.0
    now[0] = 1.0
    assert pacer.reserve("C1") == 0.0
