"""What the edges share while firebell runs: the config, the runbooks, the store and the
metrics."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.config.model import Config
from bot.incidents.permitted import NotPermittedError, record_refusal
from bot.metrics import Metrics
from bot.runbooks import Runbook
from bot.store.db import Store, db_now
from bot.store.outbox import Message, enqueue

log = logging.getLogger(__name__)

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
        """Run a use case in one transaction of its own; a refusal (`NotPermittedError`)
        is audited in another, since the use case's rolls back."""
        try:
            return await self.store.run(fn, *args, **kwargs)
        except NotPermittedError as err:
            try:
                await self.store.run(record_refusal, err)
            except SQLAlchemyError as failed:
                # The user is still told they may not: a lost audit record must not turn
                # the refusal into an error. The log names the attempt, not their words;
                # no traceback, whose message would carry the statement's parameters.
                log.error(  # noqa: TRY400
                    "could not audit the refusal of %s on %s to %s: %s",
                    err.attempted,
                    err.ref,
                    err.actor,
                    type(failed).__name__,
                )
            raise

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
