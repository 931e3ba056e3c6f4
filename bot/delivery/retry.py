"""How a failed delivery is retried (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

MAX_ATTEMPTS = 12


class DeliveryError(Exception):
    """A delivery failed; subclasses say whether to try again."""


class PermanentError(DeliveryError):
    """Trying again would fail the same way (bad request, missing channel ...)."""


class TransientError(DeliveryError):
    """A 5xx, a timeout, a dropped connection: try again with backoff."""


class TimedOutError(TransientError):
    """No answer in time: Slack may still act on the call (a post may land later)."""


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
    """Exponential backoff with full jitter, capped."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """The wait before attempt `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        chooser = rng or random
        return timedelta(seconds=ceiling / 2 + chooser.uniform(0, ceiling / 2))
