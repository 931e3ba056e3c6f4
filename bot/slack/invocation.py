"""What a subcommand handler gets, what it answers, and how it says it was misused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.errors import UserError
from bot.runtime import Runtime
from bot.store.tables import Incident


@dataclass(frozen=True)
class Invocation:
    """One `/incident` command: who typed what, where."""

    runtime: Runtime
    client: AsyncWebClient
    user: str
    channel: str
    text: str  # the words after the subcommand's name
    trigger_id: str | None
    incident: Incident | None = None  # the channel's incident (incident-channel subcommands)

    @property
    def here(self) -> Incident:
        """The incident of the channel the command was typed in."""
        assert self.incident is not None  # noqa: S101 - resolved by the dispatcher
        return self.incident

    @property
    def here_id(self) -> int:
        """The database id of `here`."""
        assert self.here.id is not None  # noqa: S101 - read from the database
        return self.here.id


@dataclass(frozen=True)
class Reply:
    """The answer only the typist sees; empty: just acknowledge the command."""

    text: str = ""
    blocks: list[Block] = field(default_factory=list)


Handler = Callable[[Invocation], Awaitable[Reply | str]]


class UsageError(UserError):
    """The arguments are missing or malformed: the answer adds the subcommand's usage."""
