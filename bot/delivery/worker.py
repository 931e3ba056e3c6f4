"""The outbox worker: claim lane heads, deliver them, settle, repeat.

One worker runs per process. It claims the heads of up to `concurrency` lanes, and
each lane is drained by one task: after a row is settled, the next row of the same lane
is claimed in the same transaction, so an incident's messages follow each other without
waiting for the next poll. A use case that commits rows calls `wake()`; rows written
by other replicas, and retries, are found by a slow poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from bot.delivery.effects import EFFECTS, Effect
from bot.delivery.retry import (
    MAX_ATTEMPTS,
    Backoff,
    DeliveryError,
    PacedError,
    PermanentError,
    RateLimitedError,
    TimedOutError,
)
from bot.delivery.slack import Claimed, Followup, Slack
from bot.store import outbox
from bot.store.db import Store, db_now
from bot.store.incidents import entries_by_id, incidents_by_id, messages_of

log = logging.getLogger(__name__)
CLAIM_INTERVAL = 0.01  # seconds between two claims of new lanes


@dataclass
class DeliveryStats:
    """Counters for `/metrics`."""

    sent: int = 0
    retried: int = 0
    paced: int = 0  # handed back until the channel's turn (nothing sent)
    failed: int = 0


class DeliveryWorker:
    """Delivers outbox rows until stopped."""

    def __init__(
        self,
        *,
        store: Store,
        slack: Slack,
        effects: Mapping[str, Effect] = EFFECTS,
        owner: str | None = None,
        concurrency: int = 16,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 1.0,
        backoff: Backoff | None = None,
        after_timeout: timedelta = timedelta(seconds=15),
    ) -> None:
        self.store = store
        self.slack = slack
        self.effects = effects
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff()
        # A call that timed out may still be acted on by Slack; the next attempt looks
        # for a post the earlier one made, so it waits until that post has had time to
        # land (else it would not be found, and would go out twice).
        self.after_timeout = after_timeout
        self.stats = DeliveryStats()
        self._wake = asyncio.Event()
        self._stopping = False
        self._lanes: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Look for new rows now (call from the event loop)."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and deliver until `stop()`."""
        last_claim = 0.0
        while not self._stopping:
            # A burst of requests wakes the worker once per request; claiming at most
            # every `CLAIM_INTERVAL` turns that burst into a few claims.
            pause = last_claim + CLAIM_INTERVAL - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            # Cleared before claiming, so a wake during the claim is not lost.
            self._wake.clear()
            free = self.concurrency - len(self._lanes)
            if free > 0:
                last_claim = time.monotonic()
                try:
                    rows = await self.store.run(self._claim, limit=free)
                except Exception:
                    log.exception("claiming outbox rows failed; trying again shortly")
                    rows = []
                for claimed in rows:
                    task = asyncio.create_task(
                        self._drain(claimed), name=f"lane {claimed.row.lane}"
                    )
                    self._lanes.add(task)
                    task.add_done_callback(self._lane_done)
                if len(rows) == free:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._lanes.discard(task)
        self._wake.set()

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop claiming, let lanes in flight finish briefly, hand back the rest."""
        self._stopping = True
        self._wake.set()
        if self._lanes:
            _, pending = await asyncio.wait(set(self._lanes), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self.store.run(outbox.release, owner=self.owner)
        except Exception:
            # Unreachable database: the leases run out on their own and are taken over.
            log.exception("could not hand back outbox leases; they expire in %s", self.lease)

    def _claim(self, session: Session, *, limit: int) -> list[Claimed]:
        rows = outbox.claim(
            session, owner=self.owner, now=db_now(session), lease=self.lease, limit=limit
        )
        return _with_facts(session, rows)

    async def _drain(self, claimed: Claimed | None) -> None:
        while claimed is not None and not self._stopping:
            outcome = await self._deliver(claimed)
            claimed = await self.store.run(self._settle, claimed, outcome)

    async def _deliver(self, claimed: Claimed) -> DeliveryError | Followup | None:
        row = claimed.row
        effect = self.effects.get(row.kind)
        if effect is None:
            return PermanentError(f"unknown outbox kind {row.kind!r}")
        if row.incident_id is not None and claimed.incident is None:
            return PermanentError(f"incident #{row.incident_id} does not exist")
        try:
            return await effect(self.slack, claimed)
        except DeliveryError as err:
            return err
        except Exception as err:
            log.exception("delivering outbox row %s (%s) crashed", row.id, row.kind)
            return PermanentError(f"{type(err).__name__}: {err}")

    def _settle(
        self, session: Session, claimed: Claimed, outcome: DeliveryError | Followup | None
    ) -> Claimed | None:
        """Record the outcome; claim the next row of the lane if one is due."""
        row = claimed.row
        assert row.id is not None  # noqa: S101
        now = db_now(session)
        error: DeliveryError | None = None
        if isinstance(outcome, DeliveryError):
            error = outcome
        elif outcome is not None:
            outcome(session)  # record what Slack answered (a channel id, a message ts)
        if error is None:
            outbox.settle_sent(session, row_id=row.id, owner=self.owner, now=now)
            self.stats.sent += 1
        elif isinstance(error, PacedError):
            outbox.settle_deferred(
                session,
                row_id=row.id,
                owner=self.owner,
                at=now + timedelta(seconds=error.retry_after),
                error=str(error),
                earlier_attempt=claimed.earlier_attempt,
            )
            self.stats.paced += 1
            return None
        elif isinstance(error, RateLimitedError):
            at = now + timedelta(seconds=error.retry_after)
            outbox.settle_retry(
                session,
                row_id=row.id,
                owner=self.owner,
                at=at,
                error=str(error),
                count_attempt=False,
            )
            self.stats.retried += 1
            return None
        elif isinstance(error, PermanentError) or row.attempts >= MAX_ATTEMPTS:
            log.error("giving up on outbox row %s (%s): %s", row.id, row.kind, error)
            outbox.settle_failed(session, row_id=row.id, owner=self.owner, error=str(error))
            self.stats.failed += 1
        else:
            delay = self.backoff.delay(row.attempts)
            if isinstance(error, TimedOutError):
                delay = max(delay, self.after_timeout)
            at = now + delay
            log.warning("outbox row %s (%s) failed, retrying: %s", row.id, row.kind, error)
            outbox.settle_retry(session, row_id=row.id, owner=self.owner, at=at, error=str(error))
            self.stats.retried += 1
            return None
        nxt = outbox.claim(
            session, owner=self.owner, now=now, lease=self.lease, limit=1, lane=row.lane
        )
        return _with_facts(session, nxt)[0] if nxt else None


def _with_facts(session: Session, leased: list[outbox.Leased]) -> list[Claimed]:
    """The claimed rows with their incidents and timeline entries, read in the claiming
    transaction."""
    ids = {one.row.incident_id for one in leased if one.row.incident_id is not None}
    incidents = incidents_by_id(session, incident_ids=ids) if ids else {}
    shown = messages_of(session, incident_ids=ids) if ids else {}
    entry_ids = {int(e) for one in leased if (e := one.row.payload.get("entry")) is not None}
    entries = entries_by_id(session, entry_ids=entry_ids) if entry_ids else {}
    return [
        Claimed(
            one.row,
            incidents.get(one.row.incident_id) if one.row.incident_id else None,
            entries.get(int(one.row.payload["entry"])) if "entry" in one.row.payload else None,
            one.earlier_attempt,
            tuple(shown.get(one.row.incident_id, ())) if one.row.incident_id else (),
        )
        for one in leased
    ]
