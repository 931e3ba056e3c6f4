"""Reading `/incident` command text (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.escaping import escape
from bot.incidents.declare import Declaration
from bot.incidents.errors import UserError

_OPTION = re.compile(r"^(service|area):(\S+)$", re.IGNORECASE)
_REF = re.compile(r"^(?:INC-?)?(\d+)$", re.IGNORECASE)

DECLARE_USAGE = "`/incident declare <P0-P3> <title> [service:<name>] [area:<name>]`"


@dataclass(frozen=True)
class Command:
    """A subcommand and the rest of the text."""

    name: str
    rest: str


def split(text: str) -> Command:
    """`"sev P1"` -> Command("sev", "P1"); empty text -> Command("", "")."""
    head, _, rest = text.strip().partition(" ")
    return Command(head.lower(), rest.strip())


def parse_declare(rest: str, *, user: str, request_key: str | None) -> Declaration:
    """Read `P1 Checkout is down service:checkout area:infra` into a Declaration."""
    words = rest.split()
    if len(words) < 2:
        raise UserError(f"Say the severity and a title: {DECLARE_USAGE}")
    options: dict[str, str] = {}
    title_words = []
    for word in words[1:]:
        match = _OPTION.match(word)
        if match:
            options[match.group(1).lower()] = match.group(2)
        else:
            title_words.append(word)
    return Declaration(
        title=" ".join(title_words),
        severity=words[0],
        declared_by=user,
        service=options.get("service"),
        area=options.get("area"),
        request_key=request_key,
    )


def parse_ref(text: str) -> int:
    """`INC-7`, `inc7` or `7` -> 7."""
    match = _REF.match(text.strip())
    if not match:
        raise UserError(f"'{escape(text.strip())}' is not an incident: write it like `INC-7`.")
    return int(match.group(1))
