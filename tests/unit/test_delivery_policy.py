"""Retry backoff and channel pacing."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.delivery.pacing import ChannelPacer
from bot.delivery.retry import (
    GIVE_UP_AFTER,
    MAX_ATTEMPTS,
    Attempt,
    Backoff,
    GiveUp,
    MootError,
    PacedError,
    PermanentError,
    PostInDoubtError,
    RateLimitedError,
    Retry,
    TimedOutError,
    TransientError,
    after_failure,
)

WAIT = timedelta(seconds=15)  # after a timeout
YOUNG = Attempt(number=1, age=timedelta(seconds=1), persistent=False)


def decide(error: Exception, attempt: Attempt = YOUNG) -> Retry | GiveUp:
    """The policy with the production backoff."""
    assert isinstance(error, TransientError | PermanentError | RateLimitedError)
    return after_failure(error, attempt, backoff=Backoff(), after_timeout=WAIT)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    """Each delay lies in [ceiling/2, ceiling], ceiling doubling up to the cap."""
    backoff = Backoff(base=1.0, cap=8.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delay = backoff.delay(attempt, rng).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


def test_default_backoff_waits_tens_of_seconds_at_most() -> None:
    """However many tries failed, the next is at most 15 s away (never minutes)."""
    assert max(Backoff().delay(n).total_seconds() for n in range(1, 60)) <= 15.0


def test_a_rate_limit_waits_retry_after_and_does_not_count() -> None:
    """A 429 (or firebell's own pacing) is retried after Retry-After, uncounted."""
    for error in (RateLimitedError("429", 7.0), PacedError("pacing", 3.0)):
        decision = decide(error)
        assert isinstance(decision, Retry)
        assert decision.after == timedelta(seconds=error.retry_after)
        assert not decision.counted
        assert not decision.in_doubt


def test_a_permanent_error_or_a_moot_page_is_given_up_at_once() -> None:
    """Slack refusing a call, or a page made moot, ends the row on the first failure."""
    assert isinstance(decide(PermanentError("chat.postMessage: channel_not_found")), GiveUp)
    assert isinstance(decide(MootError("acknowledged")), GiveUp)


def test_a_failing_row_is_given_up_only_after_its_attempts_and_an_hour() -> None:
    """Twelve quick failures are not enough: the row must also have failed for an hour."""
    many = Attempt(number=MAX_ATTEMPTS, age=timedelta(minutes=5), persistent=False)
    assert isinstance(decide(TransientError("HTTP 500"), many), Retry)
    old = Attempt(number=MAX_ATTEMPTS, age=GIVE_UP_AFTER, persistent=False)
    assert isinstance(decide(TransientError("HTTP 500"), old), GiveUp)


def test_a_page_awaiting_its_ack_is_never_given_up_for_a_passing_failure() -> None:
    """A page of an unacknowledged incident keeps being retried, however long it fails."""
    forever = Attempt(number=500, age=timedelta(days=1), persistent=True)
    decision = decide(TransientError("HTTP 503"), forever)
    assert isinstance(decision, Retry)
    assert decision.after <= timedelta(seconds=15)


def test_a_post_in_doubt_is_looked_for_next_time() -> None:
    """A post answered 5xx may have landed: the retry is marked in doubt, a moment later."""
    error = PostInDoubtError("chat.postMessage: HTTP 503", timed_out=False)
    decision = after_failure(
        error, YOUNG, backoff=Backoff(), after_timeout=WAIT, after_doubt=timedelta(seconds=1)
    )
    assert isinstance(decision, Retry)
    assert decision.in_doubt
    assert decision.counted
    assert timedelta(seconds=1) <= decision.after < WAIT


def test_a_timed_out_call_waits_until_its_effect_could_have_landed() -> None:
    """After a timeout the retry waits `after_timeout`; only a post is in doubt."""
    post = decide(PostInDoubtError("chat.postMessage: timeout", timed_out=True))
    other = decide(TimedOutError("pins.add: timeout"))
    assert isinstance(post, Retry)
    assert isinstance(other, Retry)
    assert post.after >= WAIT
    assert other.after >= WAIT
    assert post.in_doubt
    assert not other.in_doubt


def test_other_failures_are_not_in_doubt() -> None:
    """A 5xx on anything but a post (history, conversations.open) sent nothing to find."""
    decision = decide(TransientError("conversations.history: HTTP 500"))
    assert isinstance(decision, Retry)
    assert not decision.in_doubt


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


def test_a_post_that_failed_keeps_its_turn_for_its_retry() -> None:
    """A post answered 5xx comes back to go at once, not behind the backlog since."""
    now = [0.0]
    pacer = ChannelPacer(per_second=1.0, burst=1, clock=lambda: now[0])
    assert pacer.reserve("D1", holder="page") == 0.0
    pacer.hold("D1", 0.0, holder="page")  # its post failed: the retry keeps the turn
    backlog = [pacer.reserve("D1", holder=n) for n in range(10)]
    assert backlog[-1] == 10.0
    now[0] = 0.5  # the retry, after its backoff
    assert pacer.reserve("D1", holder="page") == 0.0


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
