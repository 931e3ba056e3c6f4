"""At most about one message a second per channel, with a small burst (Slack's rule).

A message whose turn is far off is not held in memory until then: its delivery is
handed back to the outbox for later, and the pacer keeps the token it reserved for it
(`hold`). When it comes back, it gets that token (`reserve(..., holder=...)`) instead of
queueing again behind everything reserved meanwhile. So a storm of messages to one
channel (an on-call's DMs, the announcements channel) goes out one per slot, each
message handed back once, rather than all coming back at the same moment and all but
one being handed back again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

HELD_FOR = 60.0  # seconds past its due time a kept token waits for its holder


class ChannelPacer:
    """A token bucket per channel; `reserve(channel)` says how long until a message may go."""

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
        self._held: dict[object, tuple[str, float]] = {}  # holder -> (channel, due)

    def reserve(self, channel: str, *, holder: object = None) -> float:
        """Take a token for `channel`; return how long to wait before using it.

        A `holder` that a token was kept for (`hold`) gets that token back.
        """
        now = self._clock()
        if holder is not None and (kept := self._held.pop(holder, None)) is not None:
            kept_channel, due = kept
            if kept_channel == channel:
                return max(0.0, due - now)
        tokens, last = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_second) - 1
        self._buckets[channel] = (tokens, now)
        if len(self._buckets) > 10_000:
            self._forget_idle(now)
        return 0.0 if tokens >= 0 else -tokens / self.per_second

    def hold(self, channel: str, delay: float, *, holder: object) -> None:
        """Keep the token just reserved for `holder`, who comes back for it in `delay`
        seconds (tokens of holders that never come back are forgotten a minute late)."""
        now = self._clock()
        self._held[holder] = (channel, now + delay)
        if len(self._held) > 10_000:
            self._held = {h: v for h, v in self._held.items() if v[1] > now - HELD_FOR}

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have filled up again (a new one starts full)."""
        self._buckets = {
            ch: (tokens, last)
            for ch, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.per_second < self.burst
        }
