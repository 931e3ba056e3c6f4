"""What the edges share while firebell runs: the config, the runbooks, the store and the
metrics."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from bot.config.model import Config
from bot.metrics import Metrics
from bot.runbooks import Runbook
from bot.store.db import Store, db_now
from bot.store.outbox import Message, enqueue

T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class Runtime:
    """The one object listeners get; built by `create_app`."""

    config: Config
    store: Store
    runbooks: Mapping[str, Runbook] = field(default_factory=dict)  # loaded once, at start
    instance: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    metrics: Metrics = field(default_factory=Metrics)  # this app's registry (`/metrics`)

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a use case in one transaction of its own."""
        return await self.store.run(fn, *args, **kwargs)

    async def tell(self, response_url: str, text: str) -> None:
        """Queue an ephemeral answer to a button press (through its response_url)."""

        def _queue(session: Session) -> None:
            answer = {"url": response_url, "text": text}
            enqueue(
                session,
                [Message("respond", f"respond:{uuid.uuid4().hex}", answer)],
                now=db_now(session),
            )

        await self.store.run(_queue)
