"""What the edges share while firebell runs: config, store, and the delivery worker."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from bot.config.model import Config
from bot.store.db import Store, db_now
from bot.store.deadlines import NEXT_DUE
from bot.store.group import GroupCommit
from bot.store.outbox import enqueue

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The one object listeners and workers get; built by `create_app`."""

    config: Config
    store: Store
    wake_delivery: Callable[[], None] = field(default=lambda: None)
    deadline_due: Callable[[datetime], None] = field(default=lambda _: None)
    instance: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    group: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.group = GroupCommit(self.store)

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a use case in one transaction (shared with use cases that arrive with it,
        see `GroupCommit`), then wake delivery and the deadline clock."""
        async with self.store.foreground.running():
            result, info = await self.group.run_with_info(fn, *args, **kwargs)
        self.wake_delivery()
        due = info.get(NEXT_DUE)
        if due is not None:
            self.deadline_due(due)
        return result

    async def tell(self, response_url: str, text: str) -> None:
        """Queue an ephemeral answer to a button press (through its response_url)."""

        def _queue(session: Session) -> None:
            enqueue(
                session,
                kind="respond",
                lane=f"respond:{uuid.uuid4().hex}",
                now=db_now(session),
                payload={"url": response_url, "text": text},
            )

        await self.run(_queue)
