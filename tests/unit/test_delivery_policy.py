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


def test_messages_handed_back_keep_their_turns() -> None:
    """Five messages to a busy channel, handed back, each come back to their own slot."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    delays = [pacer.reserve("C1", holder=n) for n in range(5)]
    assert delays == [0.0, 1.0, 2.0, 3.0, 4.0]
    for n in (3, 4):
        pacer.hold("C1", delays[n], holder=n)
    assert pacer.reserve("C1", holder="newcomer") == 5.0  # behind the kept tokens
    now[0] = 3.0
    assert pacer.reserve("C1", holder=3) == 0.0  # its own token, due now
    now[0] = 3.5
    assert pacer.reserve("C1", holder=4) == 0.5
    assert pacer.reserve("C1", holder=4) > 2.0  # a token is used once


def test_a_kept_token_is_only_for_its_channel() -> None:
    """A holder asking for another channel queues there like anybody else."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    assert pacer.reserve("C1") == 0.0
    pacer.hold("C1", pacer.reserve("C1", holder=7), holder=7)
    assert pacer.reserve("C2", holder=7) == 0.0
    assert pacer.reserve("C2", holder=8) == 1.0


def test_pacer_refills_over_time() -> None:
    """After a quiet second a channel may send again at once."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    assert pacer.reserve("C1") == 0.0
    now[0] = 1.0
    assert pacer.reserve("C1") == 0.0


def test_many_channels_forget_only_the_ones_that_filled_up() -> None:
    """Past 10,000 channels, idle ones are dropped; a channel with a queue keeps it."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    for _ in range(30):
        pacer.reserve("C-BUSY")
    now[0] = 5.0
    for n in range(10_001):
        pacer.reserve(f"C{n}")
    assert pacer.reserve("C-BUSY") == 25.0  # 30 queued, 5 s gone by
