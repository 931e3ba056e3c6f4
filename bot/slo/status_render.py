"""The live SLO status in words (pure): one compact line for an incident's main
message, a few lines for `/incident slo <service>`. Everything Prometheus or the config
said is escaped here."""

from __future__ import annotations

from datetime import datetime

from bot.config.slo import Slo
from bot.core.escaping import escape
from bot.slo.promql import prometheus_duration
from bot.slo.rules import SLO_PERIOD
from bot.slo.status import Budget, Sli, SloStatus, agreed

UNAVAILABLE = "SLO status unavailable"
_SHORT = {
    "success_rate": "success",
    "latency_p95": "p95",
    "latency_p99": "p99",
    "failure_rate": "failures",
    "cost": "cost",
}
_LONG = {
    "success_rate": "success rate",
    "latency_p95": "p95 latency",
    "latency_p99": "p99 latency",
    "failure_rate": "failure rate (wrong answers)",
    "cost": "cost",
}
_BUDGET = {"success_rate": "budget left", "max_failure_rate": "failure budget left"}
_OF = {"success_rate": "success", "max_failure_rate": "failures"}
_MET = {True: "✓", False: "✗", None: ""}


def ratio(fraction: float) -> str:
    """A fraction as a percentage with at most two decimals, never rounded up to 100%
    or down to 0% when it is not: 0.99996 is `99.99%`."""
    shown = f"{round(fraction * 100, 2):.2f}".rstrip("0").rstrip(".")
    if shown == "100" and fraction < 1:
        return "99.99%"
    if shown in ("0", "-0") and fraction > 0:
        return "0.01%"
    return f"{shown}%"


def seconds(value: float) -> str:
    """A latency: `2.1s`, `850ms`; whole seconds from 100 s (`1234s`, never `1.23e+03s`)."""
    if value >= 100:
        return f"{value:.0f}s"
    return f"{value:.3g}s" if value >= 1 else f"{value * 1000:.3g}ms"


def dollars(value: float) -> str:
    """Dollars with cents: `$166.67`."""
    return f"${value:,.2f}"


def value(sli: Sli, number: float) -> str:
    """A measured or agreed number of `sli` in its unit."""
    if sli.name in ("latency_p95", "latency_p99"):
        return seconds(number)
    if sli.name == "cost":
        return dollars(number)
    return ratio(number)


def _window(sli: Sli) -> str:
    return prometheus_duration(sli.window)


def _agreed(sli: Sli) -> str:
    each = " a day" if sli.name == "cost" else ""
    return f"agreed {value(sli, sli.target)}{each}"


def _measured(sli: Sli) -> str:
    if sli.measured is None:
        return escape(sli.missing or "not measured")
    return value(sli, sli.measured)


def _left(budget: Budget) -> str:
    if budget.left is None:
        return escape(budget.missing or "not measured")
    if budget.left < 0:
        return f"none ({(1 - budget.left) * 100:.0f}% spent)"  # past 100%, decimals say little
    return ratio(budget.left)


def _budget(budget: Budget) -> str:
    return f"{_BUDGET[budget.name]} {_left(budget)}"


def _at(at: datetime) -> str:
    """A Slack time token (each reader's own time zone), `14:05 UTC` where not shown."""
    return f"<!date^{int(at.timestamp())}^{{time}}|{at:%H:%M} UTC>"


def targets(slo: Slo) -> str:
    """The agreed targets in one line: `success 99.5% · p95 3s · cost $166.67 a day`."""
    parts = [
        f"{_SHORT[sli.name]} {value(sli, sli.target)}{' a day' if sli.name == 'cost' else ''}"
        for sli in agreed(slo)
    ]
    return " · ".join(parts) or "no targets, only paging thresholds"


def status_line(status: SloStatus, slo: Slo) -> str:
    """The main message's line: `SLO (live, 14:05 UTC): success 97.1% over 1h (agreed
    99.5%) ✗ · p95 2.1s (agreed 3s) ✓ · budget left 42%`."""
    if status.unavailable is not None:
        return f"{UNAVAILABLE}: {escape(status.unavailable)} · agreed: {targets(slo)}"
    parts = []
    for sli in status.slis:
        mark = _MET[sli.met]
        part = f"{_SHORT[sli.name]} {_measured(sli)} over {_window(sli)} ({_agreed(sli)})"
        parts.append(f"{part} {mark}" if mark else part)
    parts += [_budget(b) for b in status.budgets]
    return f"SLO (live, {_at(status.at)}): " + (" · ".join(parts) or targets(slo))


def status_answer(status: SloStatus, slo: Slo) -> str:
    """`/incident slo <service>`: each SLI on a line, then the budgets left."""
    head = f"*SLO status of {escape(status.service)}* (live, {_at(status.at)})"
    if status.unavailable is not None:
        return (
            f"{head}\n:warning: {UNAVAILABLE}: {escape(status.unavailable)}.\n"
            f"Agreed: {targets(slo)}."
        )
    lines = [head]
    for sli in status.slis:
        mark = _MET[sli.met]
        lines.append(
            f"• {_LONG[sli.name]}: {_measured(sli)} over {_window(sli)}, {_agreed(sli)}"
            + (f" {mark}" if mark else "")
        )
    if status.budgets:
        period = prometheus_duration(SLO_PERIOD)
        left = " · ".join(f"{_OF[b.name]} {_left(b)}" for b in status.budgets)
        lines.append(f"Error budget left over {period}: {left}")
    if len(lines) == 1:
        lines.append(f"Agreed: {targets(slo)}.")
    lines.append(f"_Read from Prometheus at {escape(status.source)}._")
    return "\n".join(lines)
