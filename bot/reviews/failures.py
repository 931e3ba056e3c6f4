"""The week's failure cases, as the weekly review tells them (pure): facts, no words.

Built from `bot.feedback.cases.summarise` over the review's week (cases whose `at` falls
in it): counts by service and by kind, the newest few cases, and, for each service
whose `slo` agrees a `max_failure_rate`, that rate next to the week's count of cases.

The failure *rate* is failures per answer, and firebell never learns how many answers
a product gave: Prometheus measures it (`firebell:slo_failure_ratio:*`, docs/slo.md).
So the review's facts hold the count and the agreed rate side by side and never a
rate: with `prometheus_url`, the week's measured rate is read when the review is shown
(`bot.slo.weekly`), not stored in its row.

A service classified `confidential` or `pii` is counted, never quoted: its cases' text
(masked, but a customer's words) and refs stay out of the facts, so out of the review's
row, the post and `firebell review`; the service says why (`hidden_as`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config.model import Config
from bot.core.visibility import RESTRICTED_CLASSES
from bot.feedback.cases import Summary
from bot.feedback.model import KINDS

EXAMPLES = 3  # the newest cases a review shows
EXAMPLE_TEXT = 300  # characters of an example's text the review's row carries


@dataclass(frozen=True)
class ServiceCases:
    """One service's cases of the week, by kind (most first), and its agreed rate."""

    service: str
    count: int
    kinds: tuple[tuple[str, int], ...]
    max_failure_rate: float | None  # the agreed share of failed answers, if any
    hidden_as: str | None = None  # `confidential` or `pii`: counted, no examples shown


@dataclass(frozen=True)
class CaseExample:
    """One recent case, its text cut to `EXAMPLE_TEXT` (escaped only when shown)."""

    service: str
    kind: str
    at: datetime
    ref: str | None
    text: str | None
    confidence: float | None


@dataclass(frozen=True)
class FailureFacts:
    """The week's failure cases: every service with cases or an agreed rate (most cases
    first), the kinds over all services, and the newest examples."""

    total: int
    services: tuple[ServiceCases, ...]
    kinds: tuple[tuple[str, int], ...]
    examples: tuple[CaseExample, ...]


def agreed_failure_rates(config: Config) -> dict[str, float]:
    """Each service's `slo.max_failure_rate`, for those that agree one."""
    return {
        name: service.slo.max_failure_rate
        for name, service in config.services.items()
        if service.slo is not None and service.slo.max_failure_rate is not None
    }


def hidden_services(config: Config) -> dict[str, str]:
    """The services whose cases are counted but never quoted, with their classification."""
    return {
        name: service.classification
        for name, service in config.services.items()
        if service.classification in RESTRICTED_CLASSES
    }


def _by_count(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Most first; ties in `KINDS` order, then by name."""
    order = {kind: i for i, kind in enumerate(KINDS)}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
    return tuple(ranked)


def failure_facts(
    summary: Summary, agreed: Mapping[str, float], hidden: Mapping[str, str] | None = None
) -> FailureFacts:
    """The review's facts from a period's `summary`, the agreed rates by service and the
    `hidden` services' classifications (`hidden_services`): theirs are counts only."""
    hidden = hidden or {}
    per_service: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: Counter[str] = Counter()
    for service, kind, count in summary.counts:
        per_service[service][kind] += count
        kinds[kind] += count
    for service in agreed:
        per_service.setdefault(service, Counter())
    services = [
        ServiceCases(
            service=service,
            count=sum(counts.values()),
            kinds=_by_count(counts),
            max_failure_rate=agreed.get(service),
            hidden_as=hidden.get(service),
        )
        for service, counts in per_service.items()
    ]
    services.sort(key=lambda s: (-s.count, s.service))
    return FailureFacts(
        total=sum(kinds.values()),
        services=tuple(services),
        kinds=_by_count(kinds),
        examples=tuple(
            CaseExample(
                service=case.service,
                kind=case.kind,
                at=case.at,
                ref=case.ref,
                text=None if case.text is None else case.text[:EXAMPLE_TEXT],
                confidence=case.confidence,
            )
            for case in summary.latest
            if case.service not in hidden
        ),
    )


def failures_payload(facts: FailureFacts) -> dict[str, Any]:
    """The facts as JSON-ready data (moments as ISO strings)."""
    return {
        "total": facts.total,
        "services": [
            {
                "service": s.service,
                "count": s.count,
                "kinds": [list(kind) for kind in s.kinds],
                "max_failure_rate": s.max_failure_rate,
                "hidden_as": s.hidden_as,
            }
            for s in facts.services
        ],
        "kinds": [list(kind) for kind in facts.kinds],
        "examples": [
            {
                "service": e.service,
                "kind": e.kind,
                "at": e.at.isoformat(),
                "ref": e.ref,
                "text": e.text,
                "confidence": e.confidence,
            }
            for e in facts.examples
        ],
    }


def _pairs(data: Any) -> tuple[tuple[str, int], ...]:
    return tuple((str(name), int(count)) for name, count in data)


def failures_from_payload(data: Any) -> FailureFacts | None:
    """The facts `failures_payload` wrote; None for a row queued before reviews told
    failure cases (its review says nothing of them rather than "none")."""
    if data is None:
        return None
    return FailureFacts(
        total=int(data["total"]),
        services=tuple(
            ServiceCases(
                service=str(s["service"]),
                count=int(s["count"]),
                kinds=_pairs(s["kinds"]),
                max_failure_rate=s["max_failure_rate"],
                hidden_as=s.get("hidden_as"),
            )
            for s in data["services"]
        ),
        kinds=_pairs(data["kinds"]),
        examples=tuple(
            CaseExample(
                service=str(e["service"]),
                kind=str(e["kind"]),
                at=datetime.fromisoformat(str(e["at"])),
                ref=e["ref"],
                text=e["text"],
                confidence=e["confidence"],
            )
            for e in data["examples"]
        ),
    )
