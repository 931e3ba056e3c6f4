"""Severity names as users type them."""

from __future__ import annotations

from bot.config.model import SEVERITY_LEVELS
from bot.core.escaping import escape


class SeverityError(ValueError):
    """Text that is not one of P0-P3."""


def parse_severity(text: str) -> str:
    """`p1`, `P1`, `sev1` -> `P1`; anything else raises with what to type."""
    value = text.strip().upper().removeprefix("SEV")
    if value.isdigit():
        value = "P" + value
    if value not in SEVERITY_LEVELS:
        raise SeverityError(f"'{escape(text)}' is not a severity: use one of P0, P1, P2, P3")
    return value
