"""Slack's rate limits in the fake: per-method tiers, and one post a second per channel.

Slack counts calls "per API method per app per workspace" and puts each method in a
tier (https://docs.slack.dev/apis/web-api/rate-limits): Tier 1 allows 1+ calls a minute,
Tier 2 20+, Tier 3 50+, Tier 4 100+; special methods have rules of their own, above
all `chat.postMessage`, about one message a second per channel with short bursts.
`METHOD_TIERS` names the tier of every method the fake serves, as each method's page
in Slack's reference gives it.

The fake allows exactly the tier's number of calls in any window of a minute (Slack
tolerates some burst beyond it: a client that stays under these numbers is safe with
Slack) and counts every call it answers, errors included; a call answered 429 takes
no place in the window. Posts to one channel are limited to `channel_burst` within
any second.

`scale` divides every window, so tests run fast: at `scale=60` a Tier 2 method takes 20
calls a second. `Retry-After` stays what Slack sends, whole seconds and at least 1:
the time until the window has room again, rounded up. A scaled client therefore waits
at least a second, a little longer than the scaled window needs, and never too short.
Nothing here is thread-safe: `FakeSlack` calls it under its lock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

PER_MINUTE: Mapping[int, int] = {1: 1, 2: 20, 3: 50, 4: 100}  # tier -> calls a minute
MINUTE = 60.0
SECOND = 1.0
SPECIAL = None  # a method with rules of its own (see the table)

# Every Web API method the fake serves (bot/sandbox/webapi.py), with its tier.
METHOD_TIERS: Mapping[str, int | None] = {
    "api.test": SPECIAL,  # Slack's echo: not limited in practice
    "apps.connections.open": 1,
    "auth.test": SPECIAL,  # "hundreds of requests per minute"
    "chat.delete": 3,
    "chat.getPermalink": SPECIAL,  # "hundreds of requests per minute"
    "chat.postEphemeral": 4,
    "chat.postMessage": SPECIAL,  # one a second per channel: `channel_burst`
    "chat.update": 3,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.replies": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "pins.add": 2,
    "reactions.add": 3,
    "reactions.get": 3,
    "reactions.remove": 2,
    "usergroups.users.list": 2,
    "users.info": 4,
    "views.open": 4,
    "views.update": 4,
}


@dataclass(frozen=True)
class RateLimits:
    """Which of Slack's limits the fake enforces, and how fast its clock runs.

    ``tiers``: the per-method tiers (counted per token); ``channel_burst``: posts one
    channel takes within a second (always enforced with these limits). ``scale``
    divides every window.
    """

    scale: float = 1.0
    tiers: bool = True
    channel_burst: int = 4

    def __post_init__(self) -> None:
        if self.scale <= 0:
            raise ValueError("scale must be positive (60 makes a minute a second)")
        if self.channel_burst < 1:
            raise ValueError("channel_burst must be at least 1")


@dataclass
class RateLimiter:
    """The calls inside the current windows, by key (a token and method, a channel)."""

    limits: RateLimits
    _calls: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def method_call(self, token: str, method: str, now: float) -> int | None:
        """Count a call to ``method`` with ``token``; the Retry-After if it is refused."""
        tier = METHOD_TIERS.get(method)
        if not self.limits.tiers or tier is None:
            return None
        return self._admit(("method", f"{token}:{method}"), PER_MINUTE[tier], MINUTE, now)

    def channel_post(self, channel_id: str, now: float) -> int | None:
        """Count a post to ``channel_id``; the Retry-After if it is refused."""
        return self._admit(("post", channel_id), self.limits.channel_burst, SECOND, now)

    def _admit(self, key: tuple[str, str], limit: int, window: float, now: float) -> int | None:
        window /= self.limits.scale
        recent = self._calls.setdefault(key, deque())
        while recent and now - recent[0] >= window:
            recent.popleft()
        if len(recent) >= limit:
            return max(1, math.ceil(recent[0] + window - now))
        recent.append(now)
        return None
