"""Failure cases in words: the `/incident feedback` answer (mrkdwn, every word of a
product or user escaped) and the `firebell feedback` report (plain text)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from bot.core.escaping import escape
from bot.feedback.cases import Summary
from bot.feedback.model import KINDS
from bot.logs import printable
from bot.messages.words import when
from bot.store.tables import FailureCase

# Slack folds long messages (and a slash command's answer should stay under 4,000
# characters): ten cases of at most this much escaped text each keep it there.
SHOWN_TEXT = 160
SHOWN_REF = 60
TERMINAL_TEXT = 100


def _cut(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _inert(text: str, limit: int) -> str:
    """`text` escaped on one line, cut so that the escaped text stays within about
    `limit` characters (an escaped `<` takes four) and never inside an entity."""
    line = " ".join(text.split())
    size = 0
    for end, char in enumerate(line):
        size += {"&": 5, "<": 4, ">": 4}.get(char, 1)
        if size > limit - 1:
            return escape(line[:end]) + "…"
    return escape(line)


def _kind_counts(summary: Summary) -> dict[str, int]:
    """How many cases of each kind, every service together, in the order of `KINDS`."""
    counts: dict[str, int] = defaultdict(int)
    for _, kind, count in summary.counts:
        counts[kind] += count
    return {kind: counts[kind] for kind in KINDS if counts[kind]}


def slack_feedback(
    service: str, summary: Summary, *, days: int, hidden_as: str | None = None
) -> str:
    """`/incident feedback <service>`: counts by kind over `days`, then the newest cases;
    counts only for a service classified `hidden_as` (`confidential` or `pii`)."""
    counts = _kind_counts(summary)
    total = sum(counts.values())
    heading = f"*Failure cases of {escape(service)}, last {days} days: {total}*"
    if not total:
        return f"{heading}\nNo failure cases reported on /hooks/feedback in that time."
    lines = [heading, " · ".join(f"{kind} {count}" for kind, count in counts.items())]
    if hidden_as is not None:
        # A service has no private channel: wherever this is typed, customers' words
        # would be shown to the channel. The terminal is an operator's.
        name = escape(service)
        lines.append(
            f"Examples hidden: {name} is classified {escape(hidden_as)}; "
            f"`firebell feedback --service {name}` prints them for operators."
        )
        return "\n".join(lines)
    lines.append(f"*Latest {len(summary.latest)}*")
    lines += [_slack_case(case) for case in summary.latest]
    return "\n".join(lines)


def _slack_case(case: FailureCase) -> str:
    parts = [f"• *{case.kind}*", when(case.at)]
    if case.confidence is not None:
        parts.append(f"confidence {case.confidence:.2f}")
    if case.ref:
        parts.append(f"ref `{_inert(case.ref, SHOWN_REF)}`")
    line = " · ".join(parts)
    if case.text:
        line += f"\n> {_inert(case.text, SHOWN_TEXT)}"
    return line


def terminal_feedback(summary: Summary) -> str:
    """`firebell feedback`: counts by service and kind, then the newest examples."""
    period = f"{_utc(summary.since)} to {_utc(summary.now)} UTC"
    if not summary.counts:
        return f"No failure cases from {period}.\n"
    total = sum(count for _, _, count in summary.counts)
    lines = [f"Failure cases from {period}: {total}", ""]
    by_service: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for service, kind, count in summary.counts:
        by_service[service].append((kind, count))
    width = max(len(service) for service in by_service)
    for service, kinds in by_service.items():
        described = ", ".join(f"{kind} {count}" for kind, count in kinds)
        shown = printable(service, 80).ljust(width)
        lines.append(f"  {shown}  {sum(n for _, n in kinds):>5}  {described}")
    lines += ["", f"Latest {len(summary.latest)}:"]
    for case in summary.latest:
        parts = [_utc(case.at), printable(case.service, 80), case.kind]
        if case.confidence is not None:
            parts.append(f"confidence {case.confidence:.2f}")
        if case.ref:
            parts.append(f"ref {printable(case.ref, 80)}")
        lines.append("  " + "  ".join(parts))
        if case.text:
            lines.append(f"      {printable(_cut(case.text, TERMINAL_TEXT), TERMINAL_TEXT)}")
    return "\n".join(lines) + "\n"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
