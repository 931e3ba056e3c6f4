"""At most about one message a second per channel, with a small burst (Slack's rule)."""

from __future__ import annotations

import time
from collections.abc import Callable


class ChannelPacer:
    """A token bucket per channel; `wait(channel)` sleeps until a message may go."""

    def __init__(
        self,
        *,
        per_second: float = 1.0,
        burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def reserve(self, channel: str) -> float:
        """Take a token for `channel`; return how long to wait before using it."""
        now = self._clock()
        tokens, last = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_second) - 1
        self._buckets[channel] = (tokens, now)
        if len(self._buckets) > 10_000:
            self._forget_idle(now)
        return 0.0 if tokens >= 0 else -tokens / self.per_second

    def release(self, channel: str) -> None:
        """Give back a token taken by `reserve` that will not be used now."""
        tokens, last = self._buckets.get(channel, (float(self.burst), self._clock()))
        self._buckets[channel] = (min(float(self.burst), tokens + 1), last)

    def _forget_idle(self, now: float) -> None:
        full_after = self.burst / self.per_second
        self._buckets = {ch: v for ch, v in self._buckets.items() if now - v[1] < full_after}
