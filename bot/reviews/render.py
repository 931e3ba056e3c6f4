"""A weekly review in words: Slack mrkdwn blocks for the channel, plain text for the terminal.

Both say the same things in the same order from one `Digest`; only the dressing
differs (escaped words, mentions and date tokens in Slack, IDs and local times in the
terminal). In Slack each list shows its first `SHOWN` items and says how many more
there are and how to see them all; sections stay within Slack's 3,000 characters and
the message within 50 blocks (`slack_sdk` checks both when the blocks are built).
Users' words (titles, follow-ups, rollback answers, service and area names) are
escaped, and cut before escaping so that no entity is cut in half. A restricted
incident's follow-ups and rollback answers are told as "restricted incident on
<service>" in both: their words were never read into the digest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.escaping import escape, mention
from bot.messages.words import ago, when
from bot.reviews.digest import (
    Digest,
    FollowUpFacts,
    IncidentFacts,
    RepeatService,
    RollbackFacts,
    Trend,
)
from bot.reviews.failures_text import SHOWN_SERVICES, failure_lines
from bot.slo.weekly import WeekRates

SECTION_LIMIT = 3000  # characters of a section's text
BLOCK_LIMIT = 50  # blocks of a message
SHOWN = 15  # items of a list shown in Slack
_TITLE = 150  # characters of a title shown
_TEXT = 300  # characters of a follow-up or a rollback's answer shown


@dataclass(frozen=True)
class _Style:
    """How words are dressed for where they are shown."""

    words: Callable[[str], str]  # a user's words
    person: Callable[[str], str]  # a user ID
    at: Callable[[datetime], str]  # a moment
    bold: Callable[[str], str]
    shown: int | None  # items of a list shown (None: all)
    lock: str = ""  # before a restricted incident's line


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line: a list item stays one item
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local(zone: str) -> Callable[[datetime], str]:
    tz = ZoneInfo(zone)
    return lambda at: at.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")


def _slack() -> _Style:
    return _Style(
        words=escape, person=mention, at=when, bold=lambda s: f"*{s}*", shown=SHOWN, lock=":lock: "
    )


def _terminal(zone: str) -> _Style:
    return _Style(words=str, person=str, at=_local(zone), bold=str, shown=None)


def _span(value: timedelta | None) -> str:
    return "-" if value is None else ago(value)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _days(digest: Digest) -> str:
    zone = ZoneInfo(digest.zone)
    first = digest.start.astimezone(zone)
    last = (digest.end.astimezone(zone) - timedelta(days=1)).date()
    return f"{first:%a %d %b} to {last:%a %d %b %Y} ({digest.zone})"


def title_of(digest: Digest) -> str:
    """The review's headline."""
    return f"Weekly failure review, {digest.week.label}"


def no_incidents_line(digest: Digest) -> str:
    """The one line a week without incidents gets."""
    return f"No incidents were declared in {digest.week.label}."


def _counts(counts: Mapping[str, int], style: _Style) -> str:
    return ", ".join(f"{style.words(key)} {n}" for key, n in counts.items())


def _incident(i: IncidentFacts, style: _Style) -> str:
    where = [i.severity, style.words(i.area)]
    if i.service:
        where.append(style.words(i.service))
    return f"{i.ref} ({', '.join(where)}) {style.words(_cut(i.title, _TITLE))}: {i.state}"


def _missed(i: IncidentFacts, style: _Style) -> str:
    if i.acknowledged_by is None:
        return f"{i.ref} ({i.severity}): never acknowledged, {_span(i.missed_by)} past its deadline"
    return (
        f"{i.ref} ({i.severity}): acknowledged {_span(i.missed_by)} late, "
        f"finally by {style.person(i.acknowledged_by)}"
    )


def _repeat(r: RepeatService, style: _Style) -> str:
    return (
        f"{style.words(r.service)}: {len(r.refs)} incidents in 4 weeks "
        f"({', '.join(r.refs)}), {r.this_week} this week"
    )


def _restricted(service: str | None, style: _Style) -> str:
    """As `bot.messages.restricted.subject` words it, from the facts the digest holds."""
    on = f" on {style.words(service)}" if service else ""
    return f"{style.lock}restricted incident{on}"


def _rollback(r: RollbackFacts, style: _Style) -> str:
    versions = f"{style.words(r.from_version or '?')} to {style.words(r.to_version or '?')}"
    of = f", {r.incident}" if r.incident else ""
    line = (
        f"{style.words(r.service)} ({style.words(r.environment)}) {versions}: {r.state}"
        f" (by {style.person(r.requested_by)}{of}, {style.at(r.requested_at)})"
    )
    if r.state == "failed" and r.restricted:
        line += f": {_restricted(r.service, style)}"
    elif r.state == "failed" and r.message:
        line += f": {style.words(_cut(r.message, _TEXT))}"
    return line


def _followup(f: FollowUpFacts, style: _Style) -> str:
    said = _restricted(f.service, style) if f.restricted else style.words(_cut(f.text, _TEXT))
    return f"{f.incident}: {said} ({style.person(f.owner)}, open {_span(f.age)})"


def _trend(t: Trend) -> list[str]:
    return [
        f"Incidents: {t.incidents} "
        f"(mean of the {t.weeks} weeks before: {_number(t.incidents_before)})",
        f"Median time to acknowledge: {_span(t.median_ack)} (before: {_span(t.median_ack_before)})",
        f"Deadlines met: {_share(t.deadlines_met)} (before: {_share(t.deadlines_met_before)})",
    ]


def _parts(digest: Digest, style: _Style, rates: WeekRates | None) -> list[tuple[str, list[str]]]:
    """The review's parts: a heading and its lines, empty parts left out."""
    if not digest.incidents:
        parts = [("", [no_incidents_line(digest)])]
    else:
        n = len(digest.incidents)
        counted = f"{n} incident{'s' if n != 1 else ''}"
        summary = [
            f"{counted}: by severity {_counts(digest.by_severity, style)}; "
            f"by area {_counts(digest.by_area, style)}"
        ]
        parts = [
            ("", summary),
            ("Incidents", [_incident(i, style) for i in digest.incidents]),
            ("Deadlines missed", [_missed(i, style) for i in digest.missed]),
            ("Repeat services", [_repeat(r, style) for r in digest.repeats]),
            ("Rollbacks", [_rollback(r, style) for r in digest.rollbacks]),
        ]
    if digest.failures is not None:
        shown = None if style.shown is None else SHOWN_SERVICES
        lines = failure_lines(
            digest.failures,
            week=digest.week.label,
            words=style.words,
            at=style.at,
            shown=shown,
            rates=rates,
        )
        parts.append(("Failure cases", lines))
    parts.append(("Open follow-ups", [_followup(f, style) for f in digest.followups]))
    if digest.incidents:
        parts.append(("Trend", _trend(digest.trend)))
    return [(heading, lines) for heading, lines in parts if lines]


def _shown(lines: Sequence[str], style: _Style, week: str) -> list[str]:
    if style.shown is None or len(lines) <= style.shown:
        return list(lines)
    more = len(lines) - style.shown
    return [*lines[: style.shown], f"…and {more} more: `firebell review --week {week}` lists all"]


def _sections(heading: str, lines: list[str], style: _Style) -> list[str]:
    """The part as section texts of at most `SECTION_LIMIT` characters each."""
    texts: list[str] = []
    current = style.bold(heading) if heading else ""
    for line in lines:
        item = f"• {line}" if heading else line
        if current and len(current) + 1 + len(item) > SECTION_LIMIT:
            texts.append(current)
            current = ""
        current = f"{current}\n{item}" if current else item[:SECTION_LIMIT]
    if current:
        texts.append(current)
    return texts


def digest_blocks(digest: Digest, rates: WeekRates | None = None) -> tuple[str, list[Block]]:
    """The review as a Slack message: fallback text and blocks (`rates`: the week's
    measured failure rates, read when sent)."""
    style = _slack()
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title_of(digest), emoji=True)),
        ContextBlock(elements=[MarkdownTextObject(text=escape(_days(digest)))]),
    ]
    body: list[Block] = []
    for heading, lines in _parts(digest, style, rates):
        if body:
            body.append(DividerBlock())
        for text in _sections(heading, _shown(lines, style, digest.week.label), style):
            body.append(SectionBlock(text=MarkdownTextObject(text=text)))
    room = BLOCK_LIMIT - len(blocks) - 1
    if len(body) > room:
        note = f"The review is longer than a message: `firebell review --week {digest.week.label}`"
        body = [*body[:room], ContextBlock(elements=[MarkdownTextObject(text=note)])]
    fallback = title_of(digest)
    if not digest.incidents:
        fallback += f": {no_incidents_line(digest)}"
    return fallback, blocks + body


def digest_text(digest: Digest, rates: WeekRates | None = None) -> str:
    """The review as plain text for the terminal, every item listed (`rates` as for
    `digest_blocks`)."""
    style = _terminal(digest.zone)
    out = [title_of(digest), _days(digest)]
    for heading, lines in _parts(digest, style, rates):
        out.append("")
        if heading:
            out.append(heading)
            out.extend(f"  - {line}" for line in lines)
        else:
            out.extend(lines)
    return "\n".join(out) + "\n"
