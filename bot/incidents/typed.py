"""Text a user typed (titles, descriptions, notes, statuses, summaries), checked once
before a use case stores it."""

from __future__ import annotations

from bot.core.text import forbidden_character, is_blank
from bot.incidents.errors import UserError


def typed_text(
    text: str, *, what: str, limit: int, if_blank: str | None = None, field: str | None = None
) -> str:
    """`text` without surrounding space, or a UserError saying what is wrong with it.

    Text that shows nothing is refused with `if_blank` when given, else taken as "".
    `field` names the form field at fault.
    """
    text = text.strip()
    bad = forbidden_character(text)
    if bad is not None:
        raise UserError(
            f"The {what} contains a character firebell cannot store ({bad}); "
            "remove it and try again.",
            field=field,
        )
    if is_blank(text):
        if if_blank is not None:
            raise UserError(if_blank, field=field)
        return ""
    if len(text) > limit:
        raise UserError(
            f"The {what} is {len(text)} characters; keep it under {limit}.", field=field
        )
    return text
