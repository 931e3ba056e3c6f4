"""Reading the values Alertmanager and Grafana share (both bodies are Alertmanager's
template data, Grafana's with more fields), each failure a `PayloadError` naming its
field.

Lenient where real senders differ and the meaning is plain: Go writes an empty map as
`{}` but a nil one as `null` (read as empty), an empty string where there is no URL
(read as None), and the zero time `0001-01-01T00:00:00Z` for an alert that has not
ended (read as None). Fields not read here are ignored, so a newer sender's additions
never break an older firebell.

What a database text column cannot hold (a NUL, which PostgreSQL refuses, or a lone
surrogate, which is not UTF-8): refused in the strings firebell keys and stores as they
are (group key, fingerprint, status, URLs, ...), replaced by U+FFFD in labels and
annotations (`cleaned`), so the alert is still kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.integrations.errors import PayloadError
from bot.integrations.model import Status

# Go's `time.Time{}`: what both senders write for "no time".
_GO_ZERO_YEAR = 1
STATUSES: tuple[Status, ...] = ("firing", "resolved")
_SURROGATES, _SURROGATES_END = 0xD800, 0xDFFF


def text(body: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    """The string at `key` ("" when absent, unless `required`)."""
    if key not in body or body[key] is None:
        if required:
            raise PayloadError(where, "is required: expected a string")
        return ""
    value = body[key]
    if not isinstance(value, str):
        raise PayloadError(where, "expected a string")
    if not storable(value):
        raise PayloadError(
            where, "contains a NUL character or a lone surrogate (\\u0000, \\ud800): remove it"
        )
    return value


def link(body: Mapping[str, Any], key: str, where: str) -> str | None:
    """The URL (or any string) at `key`; None when absent or empty."""
    return text(body, key, where) or None


def status(body: Mapping[str, Any], key: str, where: str) -> Status:
    """`firing` or `resolved`."""
    value = text(body, key, where, required=True)
    for known in STATUSES:
        if value == known:
            return known
    raise PayloadError(where, f'expected "firing" or "resolved", not {_shown(value)}')


def strings(body: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    """The object of strings at `key` (labels, annotations); {} when absent or null."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadError(where, "expected an object of strings")
    return {cleaned(k): cleaned(v) for k, v in value.items()}


def storable(value: str) -> bool:
    """Whether a database text column can hold `value`: no NUL (PostgreSQL refuses it)
    and no lone surrogate (not encodable as UTF-8)."""
    return "\x00" not in value and not any(_SURROGATES <= ord(c) <= _SURROGATES_END for c in value)


def cleaned(value: str) -> str:
    """`value` with each NUL and lone surrogate replaced by U+FFFD: labels and
    annotations are kept so, with the alert."""
    if storable(value):
        return value
    return "".join(
        "\ufffd" if c == "\x00" or _SURROGATES <= ord(c) <= _SURROGATES_END else c for c in value
    )


def cleaned_json(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) `cleaned`: what is stored as the
    notification's body."""
    if isinstance(value, str):
        return cleaned(value)
    if isinstance(value, list):
        return [cleaned_json(v) for v in value]
    if isinstance(value, dict):
        return {cleaned(str(k)): cleaned_json(v) for k, v in value.items()}
    return value


def count(body: Mapping[str, Any], key: str, where: str) -> int:
    """The non-negative integer at `key`; 0 when absent."""
    value = body.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PayloadError(where, "expected a whole number, 0 or more")
    return value


def moment(body: Mapping[str, Any], key: str, where: str) -> datetime | None:
    """The RFC 3339 time at `key`; None when absent, empty or Go's zero time."""
    value = text(body, key, where)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PayloadError(
            where, "expected an RFC 3339 time, e.g. 2026-03-01T09:00:00.123Z"
        ) from None
    if parsed.tzinfo is None:
        raise PayloadError(where, "expected a time with an offset (Z or +hh:mm)")
    if parsed.year == _GO_ZERO_YEAR:
        return None
    return parsed


def alerts(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The list of alert objects at `alerts`."""
    value = body.get("alerts")
    if value is None:
        raise PayloadError("alerts", "is required: expected a list of alerts")
    if not isinstance(value, list):
        raise PayloadError("alerts", "expected a list of alerts")
    for index, alert in enumerate(value):
        if not isinstance(alert, dict):
            raise PayloadError(f"alerts[{index}]", "expected an object")
    return value


def version(body: Mapping[str, Any], expected: str, sender: str) -> None:
    """Refuse a body whose `version` is not `expected`, naming the one it has."""
    value = body.get("version")
    if value == expected:
        return
    if value is None:
        raise PayloadError("version", f'is required: expected "{expected}" ({sender})')
    raise PayloadError("version", f'expected "{expected}" ({sender}), not {_shown(value)}')


def _shown(value: object) -> str:
    """A short rendering of a wrong value for an error message."""
    shown = repr(value) if not isinstance(value, str) else f'"{value}"'
    return shown if len(shown) <= 40 else shown[:37] + "..."
