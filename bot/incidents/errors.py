"""Errors a user can cause; each message says what was wrong and what to do instead."""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be done as asked; `str(err)` is shown to the user.

    `field` names the form field at fault (`title`, `severity`, `scope`), if any.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownIncidentError(UserError):
    """No incident has that number."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"There is no incident {ref}. `/incident list` shows open ones.")


class IncidentClosedError(UserError):
    """The incident is resolved; it takes no more changes."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"{ref} is already resolved, so it takes no more changes.")
