"""Reading what arrives from Slack: command text, incident refs, button values, IDs (pure).

A value that cannot be what it claims to be is a UserError saying so, before anything
reaches the database (an ID longer than its column, a number beyond its integer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.escaping import escape
from bot.core.text import is_slack_id
from bot.incidents.declare import Declaration
from bot.incidents.errors import UnknownIncidentError, UserError

_OPTION = re.compile(r"^(service|area):(\S+)$", re.IGNORECASE)
_REF = re.compile(r"^(?:INC-?)?([0-9]+)$", re.IGNORECASE)
_TRIGGER = re.compile(r"[0-9A-Za-z._-]{1,100}")  # `12345.98765.abcd...`; keys hold 120
MAX_NUMBER = 2**31 - 1  # incident numbers and ids are INTEGER columns

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
    """`INC-7`, `inc7` or `7` -> 7; a number no incident can have is UnknownIncidentError."""
    match = _REF.match(text.strip())
    if not match:
        raise UserError(f"'{escape(text.strip()[:80])}' is not an incident: write it like `INC-7`.")
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > len(str(MAX_NUMBER)) or int(digits) > MAX_NUMBER:
        raise UnknownIncidentError(f"INC-{digits[:20]}{'…' if len(digits) > 20 else ''}")
    return int(digits)


def parse_incident_id(value: object) -> int:
    """The incident id a button carries as its value."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        number = int(value)
        if 0 < number <= MAX_NUMBER:
            return number
    raise UserError("That button names no incident firebell knows; nothing was changed.")


def parse_slack_id(value: object, what: str) -> str:
    """A user or channel ID from a request, as Slack writes them (`U01ML1`)."""
    if isinstance(value, str) and is_slack_id(value):
        return value
    raise UserError(f"The {what} ID in this request is not a Slack ID; nothing was changed.")


def parse_trigger_id(value: object) -> str | None:
    """A command's trigger_id (None when it has none): it names the request for retries."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and _TRIGGER.fullmatch(value):
        return value
    raise UserError("This request's trigger_id is not one Slack sends; nothing was changed.")
