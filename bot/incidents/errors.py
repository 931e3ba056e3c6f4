"""Errors a user can cause; each message says what was wrong and what to do instead."""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be done as asked; `str(err)` is shown to the user."""


class NotInIncidentChannelError(UserError):
    """A subcommand that only works in an incident channel was used elsewhere."""

    def __init__(self, subcommand: str) -> None:
        super().__init__(
            f"`/incident {subcommand}` works in an incident channel (`#inc-<n>-...`). "
            "Run it there, or use `/incident list` to find the incident."
        )


class UnknownIncidentError(UserError):
    """No incident has that number."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"There is no incident {ref}. `/incident list` shows open ones.")


class IncidentClosedError(UserError):
    """The incident is resolved; it takes no more changes."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"{ref} is already resolved, so it takes no more changes.")
