"""How a failed delivery is retried, and when it is given up on (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

MAX_ATTEMPTS = 12
# A row that is not a page is given up on after MAX_ATTEMPTS tries, and only once it has
# been failing this long: a Slack outage of a few minutes loses no channel or post.
GIVE_UP_AFTER = timedelta(hours=1)


class DeliveryError(Exception):
    """A delivery failed; subclasses say whether to try again."""


class PermanentError(DeliveryError):
    """Trying again would fail the same way (bad request, missing channel ...)."""


class MootError(PermanentError):
    """Sending it no longer serves a purpose (a page to an incident acknowledged since)."""


class TransientError(DeliveryError):
    """A 5xx, a timeout, a dropped connection: try again with backoff."""


class TimedOutError(TransientError):
    """No answer in time: Slack may still act on the call (a post may land later)."""


class PostInDoubtError(TransientError):
    """A post Slack may have taken although it answered 5xx or not at all: the next
    attempt looks for it before posting again."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class RateLimitedError(DeliveryError):
    """Slack said 429: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PacedError(RateLimitedError):
    """Held back by firebell's own pacing before anything was sent: try again after
    `retry_after` seconds, when the token kept for it is due."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, capped: a page waits tens of seconds between
    tries at most, never minutes."""

    base: float = 0.25
    cap: float = 15.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """The wait before attempt `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        chooser = rng or random
        return timedelta(seconds=ceiling / 2 + chooser.uniform(0, ceiling / 2))


@dataclass(frozen=True)
class Retry:
    """Try again `after` this long. `counted`: the attempt counts towards giving up
    (waiting out a rate limit does not). `in_doubt`: this attempt may have posted, so
    the next one looks for its post first."""

    after: timedelta
    counted: bool = True
    in_doubt: bool = False


@dataclass(frozen=True)
class GiveUp:
    """Stop trying: the row is done, as failed."""

    reason: str


@dataclass(frozen=True)
class Attempt:
    """What the policy weighs about the attempt that failed."""

    number: int  # counts from 1
    age: timedelta  # since the row was queued
    persistent: bool  # kept trying whatever the count (a page whose incident awaits an ack)


def after_failure(
    error: DeliveryError,
    attempt: Attempt,
    *,
    backoff: Backoff,
    after_timeout: timedelta,
    after_doubt: timedelta = timedelta(0),
) -> Retry | GiveUp:
    """What to do after `error`. A call that timed out is retried `after_timeout` at the
    soonest, a post answered 5xx `after_doubt` (time for either to show in history)."""
    if isinstance(error, RateLimitedError):  # nothing was sent: wait our turn, uncounted
        return Retry(timedelta(seconds=error.retry_after), counted=False)
    if isinstance(error, PermanentError):
        return GiveUp(str(error))
    exhausted = attempt.number >= MAX_ATTEMPTS and attempt.age >= GIVE_UP_AFTER
    if exhausted and not attempt.persistent:
        return GiveUp(f"{error} (after {attempt.number} attempts)")
    delay = backoff.delay(attempt.number)
    timed_out = isinstance(error, TimedOutError) or (
        isinstance(error, PostInDoubtError) and error.timed_out
    )
    if timed_out:
        # Slack may still act on a call that timed out: the next attempt looks for its
        # post, so it waits until that post has had time to land.
        delay = max(delay, after_timeout)
    elif isinstance(error, PostInDoubtError):
        delay = max(delay, after_doubt)
    return Retry(delay, in_doubt=isinstance(error, PostInDoubtError))
