"""A failure case as a product reports it, and reading a body of them (pure).

A body is one case `{service, kind, ref?, text?, confidence?, at?}` or a batch of 1 to
`MAX_EVENTS`: `{"events": [case, ...]}` or a bare JSON array `[case, ...]`. A field at
fault is named by its place: `kind`, `events[3].kind`, `[3].kind`. `text` is kept as
sent up to `MAX_TEXT` characters (the rest is cut off), with a NUL or lone surrogate
replaced by U+FFFD (no database column holds them); it is escaped only when shown.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config.source import did_you_mean
from bot.core.text import forbidden_character, is_blank
from bot.integrations.fields import cleaned

KINDS = ("wrong_answer", "low_confidence", "thumbs_down", "escalated_to_human")
MAX_EVENTS = 500
MAX_TEXT = 2000  # characters of `text` kept
MAX_REF = 200
MAX_SERVICE = 80
FIELDS = ("service", "kind", "ref", "text", "confidence", "at")


@dataclass(frozen=True)
class FailureEvent:
    """One failure case: which service, what went wrong, and when (None: now)."""

    service: str
    kind: str
    ref: str | None = None
    text: str | None = None
    confidence: float | None = None
    at: datetime | None = None


class FeedbackError(ValueError):
    """A body refused: the field at fault (`events[3].kind`, `body`) and what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_body(body: Any, services: Collection[str]) -> list[FailureEvent]:
    """The cases of a decoded JSON body; FeedbackError naming the first field at fault."""
    if isinstance(body, list):
        events, prefix = body, ""
    elif not isinstance(body, dict):
        raise FeedbackError("body", 'must be one case {...}, {"events": [...]} or [...]')
    elif "events" not in body:
        return [parse_event(body, services, where="")]
    elif extra := sorted(set(body) - {"events"}):
        raise FeedbackError(str(extra[0]), 'a batch holds only "events"')
    else:
        events, prefix = body["events"], "events"
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise FeedbackError(prefix or "body", f"must be a list of 1 to {MAX_EVENTS} cases")
    return [parse_event(event, services, where=f"{prefix}[{i}]") for i, event in enumerate(events)]


def parse_event(data: Any, services: Collection[str], *, where: str) -> FailureEvent:
    """One case; `where` prefixes the field names of errors (`events[3]`)."""

    def name(field: str) -> str:
        return f"{where}.{field}" if where else field

    if not isinstance(data, dict):
        raise FeedbackError(where or "body", "must be an object {service, kind, ...}")
    if extra := sorted(str(key) for key in set(data) - set(FIELDS)):
        known = ", ".join(FIELDS)
        raise FeedbackError(
            name(extra[0]), f"is not a field{did_you_mean(extra[0], FIELDS)} (fields: {known})"
        )
    service = _line(data, "service", name("service"), MAX_SERVICE, required=True)
    assert service is not None  # noqa: S101 - required
    if service not in services:
        known = ", ".join(sorted(services)) or "none configured"
        raise FeedbackError(
            name("service"),
            f"unknown service {service!r}{did_you_mean(service, services)} (known: {known})",
        )
    kind = data.get("kind")
    if kind not in KINDS:
        given = "missing" if kind is None else f"{kind!r} is not a kind"
        hint = did_you_mean(kind, KINDS) if isinstance(kind, str) else ""
        raise FeedbackError(name("kind"), f"{given}{hint}; kinds: {', '.join(KINDS)}")
    return FailureEvent(
        service=service,
        kind=str(kind),
        ref=_line(data, "ref", name("ref"), MAX_REF),
        text=_text(data.get("text"), name("text")),
        confidence=_confidence(data.get("confidence"), name("confidence")),
        at=_moment(data.get("at"), name("at")),
    )


def _line(
    data: Mapping[str, Any], key: str, field: str, limit: int, *, required: bool = False
) -> str | None:
    """A one-line printable string of at most `limit` characters."""
    value = data.get(key)
    if value is None:
        if required:
            raise FeedbackError(field, "is missing")
        return None
    if not isinstance(value, str):
        raise FeedbackError(field, "must be a string")
    value = value.strip()
    if is_blank(value):
        raise FeedbackError(field, "must not be blank")
    if len(value) > limit:
        raise FeedbackError(field, f"must be at most {limit} characters")
    if forbidden_character(value) is not None or "\n" in value or "\t" in value:
        raise FeedbackError(field, "must be one line of printable text")
    return value


def _text(value: Any, field: str) -> str | None:
    """The user's or product's words, as sent: cut at `MAX_TEXT`, storable."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FeedbackError(field, "must be a string")
    return cleaned(value[:MAX_TEXT])


def _confidence(value: Any, field: str) -> float | None:
    """A number from 0 to 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedbackError(field, "must be a number from 0 to 1")
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise FeedbackError(field, f"must be from 0 to 1, got {value}")
    return float(value)


def _moment(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time with an offset."""
    if value is None:
        return None
    example = "e.g. 2026-03-01T09:00:00Z"
    if not isinstance(value, str):
        raise FeedbackError(field, f"must be an ISO 8601 time with an offset, {example}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FeedbackError(field, f"is not an ISO 8601 time, {example}") from None
    if moment.tzinfo is None:
        raise FeedbackError(field, f"needs an offset (Z or +01:00), {example}")
    return moment
