"""The review's "Failure cases" part in words, from `FailureFacts` (pure).

`words` dresses a product's or user's words for where they are shown (escaped for
Slack, as typed in the terminal); control characters are made visible first, and
texts are cut before that so that no entity is cut in half. Slack shows the top
`SHOWN_SERVICES` services, the terminal all of them. A `confidential` or `pii`
service is counted and says its examples are hidden; none of its cases is quoted.
With the week's failure rates Prometheus measured (`bot.slo.weekly`, read when the
review is shown, never stored), a service's agreed rate stands beside its measured one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.logs import printable
from bot.reviews.failures import CaseExample, FailureFacts, ServiceCases
from bot.slo.promql import percent
from bot.slo.weekly import WeekRates

SHOWN_SERVICES = 5
_TEXT = 150  # characters of an example's text shown
_REF = 60
_NAME = 80


def no_failure_cases_line(week: str) -> str:
    """The one line a week without failure cases gets."""
    return f"No failure cases reported on /hooks/feedback in {week}."


def _safe(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters, control characters made visible."""
    line = " ".join(text.split())
    cut = line if len(line) <= limit else line[: limit - 1] + "…"
    return printable(cut, len(cut))


def _counts(counts: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts)


def measured_rate(rate: float, agreed: float) -> str:
    """A week's measured failure rate against the agreed one, and whether it was kept."""
    kept = "✓" if rate <= agreed else "✗"
    return f"failure rate {rate * 100:.3g}% over the week (agreed at most {percent(agreed)}) {kept}"


def _service(s: ServiceCases, words: Callable[[str], str], rates: WeekRates | None) -> str:
    line = f"{words(_safe(s.service, _NAME))}: "
    line += f"{s.count} ({_counts(s.kinds)})" if s.count else "no cases"
    rate = None if rates is None else rates.rates.get(s.service)
    if s.max_failure_rate is not None and rate is not None:
        line += f"; {measured_rate(rate, s.max_failure_rate)}"
    elif s.max_failure_rate is not None:
        line += f"; agreed failure rate at most {percent(s.max_failure_rate)}"
    if s.hidden_as is not None:
        line += f"; examples hidden: classified {s.hidden_as}"
    return line


def _example(e: CaseExample, words: Callable[[str], str], at: Callable[[datetime], str]) -> str:
    parts = [f"{words(_safe(e.service, _NAME))} {e.kind}", at(e.at)]
    if e.confidence is not None:
        parts.append(f"confidence {e.confidence:.2f}")
    if e.ref:
        parts.append(f"ref {words(_safe(e.ref, _REF))}")
    line = "Latest: " + ", ".join(parts)
    if e.text:
        line += f": {words(_safe(e.text, _TEXT))}"
    return line


def failure_lines(
    facts: FailureFacts,
    *,
    week: str,
    words: Callable[[str], str],
    at: Callable[[datetime], str],
    shown: int | None,
    rates: WeekRates | None = None,
) -> list[str]:
    """The part's lines: the total by kind, each service (`shown` of them, None: all)
    with its agreed rate and the week's measured one (`rates`: None when no Prometheus
    is configured), how the rate is measured where none was, then the newest examples."""
    if not facts.total:
        return [no_failure_cases_line(week)]
    n = facts.total
    lines = [
        f"{n} failure case{'s' if n != 1 else ''} reported on /hooks/feedback: "
        f"{_counts(facts.kinds)}"
    ]
    services = list(facts.services)
    listed = services if shown is None else services[:shown]
    lines += [_service(s, words, rates) for s in listed]
    if len(listed) < len(services):
        lines.append(
            f"…and {len(services) - len(listed)} more services: `firebell review --week "
            f"{week}` lists all"
        )
    measured = {} if rates is None else rates.rates
    if any(s.max_failure_rate is not None and s.service not in measured for s in services):
        silent = " (Prometheus did not answer)" if rates is not None and not rates.answered else ""
        lines.append(
            "The failure rate (failures per answer) is measured by Prometheus as "
            "`firebell:slo_failure_ratio:rate1h` (and 5m, 30m, 6h, 3d; docs/slo.md): "
            f"firebell counts cases, not answers{silent}."
        )
    # The facts never hold a hidden service's cases; a row from before they were
    # classified might: it is counted and still not quoted.
    hidden = {s.service for s in services if s.hidden_as is not None}
    lines += [_example(e, words, at) for e in facts.examples if e.service not in hidden]
    return lines
