"""Group commit: use cases that arrive together share one transaction.

Every request's transaction pays the same fixed costs: handing the work to the
database thread (SQLite) or a pooled connection (PostgreSQL), BEGIN, one INSERT per
table of buffered rows, and the commit. Under load those costs were most of a
declaration. Here, while one transaction runs, the use cases that arrive meanwhile
queue; the next transaction runs them all, one after another in the same session, and
commits once. A lone request runs at once: nothing waits for a batch to fill.

If a shared transaction fails, none of it was committed, and each use case of the
batch runs again in a transaction of its own, so one request's error (a typo in a
severity, a lost race) stays that request's alone.

A use case can see the calls it shares its transaction with (`sharing`) and do part
of their work at once: the first declaration of a batch inserts every incident of the
batch with one statement, instead of one each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from bot.store.db import Store

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_BATCH = 32  # use cases per shared transaction

Outcome = tuple[Any, dict[Any, Any]]  # a use case's result, and its transaction's info


_SIBLINGS = "firebell.group_calls"


@dataclass(frozen=True)
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: asyncio.Future[Outcome]

    def __call__(self, session: Session) -> Any:
        return self.fn(session, *self.args, **self.kwargs)


class GroupCommit:
    """Runs use cases in shared transactions, in the order they arrive."""

    def __init__(self, store: Store, *, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self.batches = 0  # transactions committed (`/metrics`)
        self.jobs = 0  # use cases they committed
        self._queue: list[_Job] = []
        self._drainer: asyncio.Task[None] | None = None

    async def run_with_info(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, dict[Any, Any]]:
        """Run `fn(session, *args, **kwargs)`, committed with whatever arrived with it.

        Returns its result and what its transaction noted in `session.info` (shared
        with the rest of the batch: `NEXT_DUE` is then the earliest of them all).
        """
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(fn, args, kwargs, future))
        if self._drainer is None or self._drainer.done():
            # Started from the caller's context: foreground work stays foreground.
            self._drainer = asyncio.create_task(self._drain(), name="group commit")
        result, info = await future
        return result, info

    async def _drain(self) -> None:
        batch: list[_Job] = []
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._commit([job for job in batch if not job.future.done()])
        except BaseException:
            # Cancelled (shutting down): nobody may wait for an answer forever.
            for job in [*batch, *self._queue]:
                job.future.cancel()
            self._queue.clear()
            raise
        finally:
            self._drainer = None

    async def _commit(self, batch: list[_Job]) -> None:
        if not batch:
            return
        if len(batch) == 1:
            await self._alone(batch[0])
            return
        try:
            results, info = await self.store.run_with_info(_together, batch)
        except Exception:
            log.debug("a shared transaction of %d failed; running each alone", len(batch))
            for job in batch:
                await self._alone(job)
            return
        self.batches += 1
        self.jobs += len(batch)
        for job, result in zip(batch, results, strict=True):
            if not job.future.done():
                job.future.set_result((result, info))

    async def _alone(self, job: _Job) -> None:
        try:
            results, info = await self.store.run_with_info(_together, [job])
        except Exception as err:
            if not job.future.done():
                job.future.set_exception(err)
            return
        self.batches += 1
        self.jobs += 1
        if not job.future.done():
            job.future.set_result((results[0], info))

    def metrics(self) -> list[str]:
        """Prometheus text lines: use cases and the transactions that committed them."""
        return [
            "# HELP firebell_use_cases_total Use cases committed (requests, button presses).",
            "# TYPE firebell_use_cases_total counter",
            f"firebell_use_cases_total {self.jobs}",
            "# HELP firebell_use_case_transactions_total Transactions that committed them.",
            "# TYPE firebell_use_case_transactions_total counter",
            f"firebell_use_case_transactions_total {self.batches}",
        ]


def _together(session: Session, jobs: list[_Job]) -> list[Any]:
    """Run each use case in turn in one session (one transaction)."""
    session.info[_SIBLINGS] = [(job.fn, job.args, job.kwargs) for job in jobs]
    try:
        return [job(session) for job in jobs]
    finally:
        del session.info[_SIBLINGS]


Arguments = tuple[tuple[Any, ...], dict[str, Any]]  # a call's positional and keyword arguments
_Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def sharing(session: Session, fn: Callable[..., Any]) -> list[Arguments]:
    """The arguments of every call of `fn` that runs in this session's transaction
    (group commit), in order; empty outside group commit.

    A use case may do part of its work for all of them at once, e.g. one query
    instead of one per call; each call must still do its own share when it runs.
    """
    calls: list[_Call] = session.info.get(_SIBLINGS, [])
    return [(args, kwargs) for called, args, kwargs in calls if called is fn]
