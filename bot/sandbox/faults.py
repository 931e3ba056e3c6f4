"""The fake Slack's misbehaviour: queued faults, scripts and seeded chaos.

A call's *fate* says how the fake answers it: after how long, with which fault, and
whether the call took effect first (Slack acted, then the answer was lost). Fault kinds:

- ``ok``: answer normally (a placeholder in a script);
- ``latency``: sleep ``delay``, then answer normally;
- ``429``: ``ok: false, error: ratelimited`` with ``Retry-After``;
- ``500``: ``ok: false, error: internal_error`` as JSON;
- ``503``: an HTML page with ``text/html``, as Slack's load balancers answer;
- ``timeout``: sleep ``delay`` (10 s by default), then drop the connection unanswered;
- ``error:<code>``: HTTP 200 with ``ok: false`` and that error code.

``effect+500``, ``effect+503`` and ``effect+timeout`` first perform the call (the
message is posted, the channel created) and then answer the 5xx, or sleep and drop.
Nothing here is thread-safe: ``FakeSlack`` calls it under its lock.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

from bot.sandbox.model import Json

EFFECT = "effect+"
DEFAULT_TIMEOUT = 10.0
BASE_KINDS = frozenset({"ok", "latency", "429", "500", "503", "timeout"})
EFFECT_KINDS = frozenset({"500", "503", "timeout"})
# Never faulted by chaos: firebell's start-up identity check, Socket Mode's connection
# handshake, the echo method, and response URLs (hooks.slack.com, not the Web API).
SPARED_METHODS = frozenset({"auth.test", "api.test", "apps.connections.open", "response_url"})
HTML_503 = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
    b"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass
class Reply:
    """One HTTP answer; ``drop`` closes the connection without answering."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    drop: bool = False


def json_reply(payload: Json, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(payload).encode(), headers or {})


def check_kind(kind: str) -> None:
    """Raise ValueError unless ``kind`` is a fault kind this module knows."""
    base = kind.removeprefix(EFFECT)
    if kind.startswith(EFFECT) and base not in EFFECT_KINDS:
        raise ValueError(f"only 500, 503 and timeout can follow an effect, not {base!r}")
    if base not in BASE_KINDS and not (base.startswith("error:") and len(base) > 6):
        raise ValueError(f"unknown fault kind {kind!r}")


@dataclass
class Fault:
    """A fault to inject into the next ``times`` calls of ``method`` (``*``: any)."""

    method: str
    kind: str
    times: int = 1
    retry_after: int = 1
    delay: float = 0.0


@dataclass(frozen=True)
class Fate:
    """How to answer one call.

    ``kind`` is a base kind without ``effect+`` (``None``: answer normally); ``wait`` is
    slept before anything else, ``delay`` is a timeout's sleep before it drops.
    """

    kind: str | None = None
    after_effect: bool = False
    wait: float = 0.0
    delay: float = 0.0
    retry_after: int = 1

    @property
    def label(self) -> str:
        """The kind as counted in the stats: ``503``, ``effect+timeout`` ... or ``""``."""
        if self.kind is None:
            return "latency" if self.wait > 0 else ""
        return f"{EFFECT}{self.kind}" if self.after_effect else self.kind

    @classmethod
    def of(cls, fault: Fault) -> Fate:
        """The fate a queued fault deals."""
        base = fault.kind.removeprefix(EFFECT)
        if base == "ok":
            return cls()
        if base == "latency":
            return cls(wait=fault.delay)
        delay = (fault.delay or DEFAULT_TIMEOUT) if base == "timeout" else 0.0
        return cls(base, fault.kind.startswith(EFFECT), 0.0, delay, fault.retry_after)

    def reply(self) -> Reply:
        """The answer to send instead of the call's own (for every kind but timeout)."""
        if self.kind == "429":
            headers = {"Retry-After": str(self.retry_after)}
            return json_reply({"ok": False, "error": "ratelimited"}, 429, headers)
        if self.kind == "500":
            return json_reply({"ok": False, "error": "internal_error"}, 500)
        if self.kind == "503":
            return Reply(503, HTML_503, content_type="text/html")
        return json_reply({"ok": False, "error": str(self.kind).removeprefix("error:")})


@dataclass(frozen=True)
class Chaos:
    """Random faults on every call, reproducible for a seed.

    Each call to a method not in ``spare`` sleeps a latency drawn from ``latency``
    (seconds, low and high), then answers 500, 503 (HTML), 429 (``Retry-After``) or times
    out with the given probabilities. With ``effect_then_error``, a share
    ``effect_share`` of the 500s, 503s and timeouts come after the call took effect.
    The n-th call to a method since ``chaos()`` meets the same fate in every run with the
    same seed, however calls to different methods interleave. ``spare`` defaults to
    ``SPARED_METHODS``; ``spare=SPARED_METHODS - {"response_url"}`` faults response URLs.
    """

    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_429: float = 0.0
    rate_timeout: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)
    effect_then_error: bool = False
    effect_share: float = 0.5
    retry_after: int = 1
    timeout_delay: float = DEFAULT_TIMEOUT
    seed: int = 0
    spare: frozenset[str] = SPARED_METHODS

    def __post_init__(self) -> None:
        rates = (self.rate_500, self.rate_503, self.rate_429, self.rate_timeout)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        if not 0 <= self.latency[0] <= self.latency[1]:
            raise ValueError("latency must be (low, high) with 0 <= low <= high")
        if not 0 <= self.effect_share <= 1:
            raise ValueError("effect_share must be between 0 and 1")

    def fate(self, method: str, nth: int) -> Fate:
        """The fate of the ``nth`` call (from 1) to ``method``."""
        if method in self.spare:
            return Fate()
        rng = random.Random(f"{self.seed}:{method}:{nth}")  # noqa: S311 - chaos must replay from its seed
        wait = rng.uniform(*self.latency)
        draw = rng.random()
        kind: str | None = None
        for candidate, rate in (
            ("500", self.rate_500),
            ("503", self.rate_503),
            ("429", self.rate_429),
            ("timeout", self.rate_timeout),
        ):
            if draw < rate:
                kind = candidate
                break
            draw -= rate
        if kind is None:
            return Fate(wait=wait)
        after_effect = (
            self.effect_then_error and kind in EFFECT_KINDS and rng.random() < self.effect_share
        )
        delay = self.timeout_delay if kind == "timeout" else 0.0
        return Fate(kind, after_effect, wait, delay, self.retry_after)


# The degraded Slack of issue 11: 10 % 500, 10 % HTML 503, 10 % 429, 50-300 ms a call.
DEGRADED_SLACK = Chaos(rate_500=0.1, rate_503=0.1, rate_429=0.1, latency=(0.05, 0.3))


class FaultPlan:
    """The faults still queued, the chaos in force, and what was injected so far."""

    def __init__(self) -> None:
        self.queue: list[Fault] = []
        self.chaos: Chaos | None = None
        self.injected: Counter[tuple[str, str]] = Counter()  # (method, label) -> calls
        self._seen: Counter[str] = Counter()  # method -> calls, for chaos's draws

    def set_chaos(self, chaos: Chaos | None) -> None:
        """Deal fates by ``chaos`` from now on (``None``: none), counting calls afresh."""
        self.chaos = chaos
        self._seen.clear()

    def take(self, method: str, is_response: bool) -> Fate:
        """The fate of the next call to ``method``: a queued fault first, else chaos.

        A ``*`` fault matches every API method but not response URL posts.
        """
        self._seen[method] += 1
        fate = Fate()
        for fault in self.queue:
            if fault.method == method or (fault.method == "*" and not is_response):
                fault.times -= 1
                self.queue = [f for f in self.queue if f.times > 0]
                fate = Fate.of(fault)
                break
        else:
            if self.chaos is not None:
                fate = self.chaos.fate(method, self._seen[method])
                if fate.kind is None:
                    return fate  # chaos's latency alone is not counted as a fault
        if fate.label:
            self.injected[method, fate.label] += 1
        return fate

    def counts(self, method: str | None = None) -> dict[str, int]:
        """Faults injected so far by label (``503``, ``effect+timeout`` ...)."""
        counts: Counter[str] = Counter()
        for (where, label), n in self.injected.items():
            if method in (None, where):
                counts[label] += n
        return dict(counts)
