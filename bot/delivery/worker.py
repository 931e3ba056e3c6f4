"""The outbox worker: claim lane heads, deliver them, settle, repeat.

One worker runs per process. It claims the heads of up to `concurrency` lanes, and
each lane is drained by one task: after a row is settled, the next row of the same lane
is claimed in the same transaction, so an incident's messages follow each other without
waiting for the next poll. A use case that commits rows calls `wake()`; a retry wakes
the worker when it is due; rows written by other replicas are found by a slow poll.

Pages go first. Pages (`page` rows, the heads of `dm:*` lanes) have places of their
own: up to `concurrency` lanes headed by a page run besides up to `concurrency` lanes of
everything else, and each claim takes waiting pages first. So however many channel
creations, invites and pins a storm queues, a page never waits for a place behind them.
A row Slack answers 429 (`Retry-After`) is handed back to the outbox, due after the
wait (`retry.after_failure`): it holds no place meanwhile, its lane waits, other
lanes go on, and the worker wakes when it is due. Slack's limits are per method, so a
`conversations.create` over its Tier 2 limit never slows a DM.

Nothing here dies of a database outage: a claim that fails is tried at the next poll,
and a delivery that happened is settled as soon as the database is back (one log line
when it goes, one when it returns).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from sqlmodel import Session

from bot.core.states import State
from bot.delivery.effects import EFFECTS, GIVEN_UP, Effect, GivenUp
from bot.delivery.retry import (
    Attempt,
    Backoff,
    DeliveryError,
    MootError,
    PacedError,
    PermanentError,
    Retry,
    after_failure,
)
from bot.delivery.slack import Claimed, Followup, Slack
from bot.metrics import Metrics
from bot.store import outbox
from bot.store.db import Store, db_now
from bot.store.incidents import entries_by_id, incidents_by_id, messages_of
from bot.store.outage import Outage, describe, is_unreachable

log = logging.getLogger(__name__)
CLAIM_INTERVAL = 0.01  # seconds between two claims of new lanes
SETTLE_RETRY_CAP = 2.0  # seconds between tries to record a delivery while the database is away
FIRST = "page"  # the kind of row claimed first, with places of its own
# Outbox kinds that call a webhook, by the webhook's kind (`firebell_webhook_deliveries_total`).
WEBHOOKS = {"rollback_webhook": "rollback"}


# How a row was settled (`firebell_deliveries_total`): `paced` was handed back until the
# channel's turn (nothing sent), `lost` ran out of its claim before it was settled.
Result = Literal["sent", "retried", "paced", "failed", "lost"]


@dataclass(frozen=True)
class Settled:
    """How a row was settled, the lane's next row if it was claimed, and for a retry
    how long until it is due."""

    result: Result
    following: Claimed | None = None
    retry_in: float | None = None


_TAKEN_OVER = Settled("lost")  # the claim ran out before it was settled


class DeliveryWorker:
    """Delivers outbox rows until stopped."""

    def __init__(
        self,
        *,
        store: Store,
        slack: Slack,
        effects: Mapping[str, Effect] = EFFECTS,
        given_up: Mapping[str, GivenUp] = GIVEN_UP,
        owner: str | None = None,
        concurrency: int = 16,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 1.0,
        backoff: Backoff | None = None,
        after_timeout: timedelta = timedelta(seconds=15),
        after_doubt: timedelta = timedelta(seconds=1),
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.slack = slack
        self.effects = effects
        self.given_up = given_up
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff()
        # A call that timed out may still be acted on by Slack; the next attempt looks
        # for a post the earlier one made, so it waits until that post has had time to
        # land (else it would not be found, and would go out twice).
        self.after_timeout = after_timeout
        # A post answered 5xx may have landed; its retry reads history, so it waits a
        # moment for Slack to show the post there.
        self.after_doubt = after_doubt
        self.metrics = metrics
        self._outage = Outage("delivery", log)
        self._wake = asyncio.Event()
        self._stopping = False
        self._lanes: set[asyncio.Task[None]] = set()
        self._page_lanes: set[asyncio.Task[None]] = set()  # those headed by a page

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
            free_pages = self.concurrency - len(self._page_lanes)
            free = self.concurrency - (len(self._lanes) - len(self._page_lanes))
            if free_pages > 0 or free > 0:
                last_claim = time.monotonic()
                try:
                    pages, rows = await self.store.run(self._claim, pages=free_pages, others=free)
                except Exception as err:
                    self._outage.failed(err, "claiming outbox rows")
                    pages, rows = [], []
                else:
                    self._outage.succeeded()
                for claimed in pages + rows:
                    task = asyncio.create_task(
                        self._drain(claimed), name=f"lane {claimed.row.lane}"
                    )
                    self._lanes.add(task)
                    if claimed.row.kind == FIRST:
                        self._page_lanes.add(task)
                    task.add_done_callback(self._lane_done)
                more_pages = free_pages > 0 and len(pages) == free_pages
                if more_pages or (free > 0 and len(rows) == free):
                    continue  # there may be more waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        self._lanes.discard(task)
        self._page_lanes.discard(task)
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
        except Exception as err:
            # The leases run out on their own and are taken over.
            if not is_unreachable(err):
                log.exception("could not hand back outbox leases; they expire in %s", self.lease)
            else:
                log.warning(
                    "could not hand back outbox leases (%s); they expire in %s",
                    describe(err),
                    self.lease,
                )

    def _claim(
        self, session: Session, *, pages: int, others: int
    ) -> tuple[list[Claimed], list[Claimed]]:
        """Lease up to `pages` lanes headed by a page, then up to `others` lanes headed
        by anything else, in one transaction."""
        now = db_now(session)
        claim = partial(outbox.claim, session, owner=self.owner, now=now, lease=self.lease)
        first = claim(limit=pages, kind=FIRST) if pages > 0 else []
        rest = claim(limit=others, not_kind=FIRST) if others > 0 else []
        claimed = _with_facts(session, first + rest)
        return claimed[: len(first)], claimed[len(first) :]

    async def _drain(self, claimed: Claimed | None) -> None:
        while claimed is not None and not self._stopping:
            outcome = await self._deliver(claimed)
            settled = await self._record(claimed, outcome)
            if settled is None:
                return
            self._count(claimed.row.kind, settled.result)
            if settled.retry_in is not None:
                asyncio.get_running_loop().call_later(settled.retry_in, self.wake)
            claimed = settled.following

    def _count(self, kind: str, result: Result) -> None:
        """One more row of `kind` settled as `result`."""
        if self.metrics is None:
            return
        self.metrics.deliveries.labels(result).inc()
        if (webhook := WEBHOOKS.get(kind)) is not None:
            self.metrics.webhook_deliveries.labels(webhook, result).inc()

    async def _record(
        self, claimed: Claimed, outcome: DeliveryError | Followup | None
    ) -> Settled | None:
        """Settle `claimed`, trying again while the database is away: what was sent must
        be recorded. None if it could not be before stopping (the lease runs out and the
        next attempt looks for what this one posted)."""
        pause = 0.1
        while True:
            try:
                settled = await self.store.run(self._settle, claimed, outcome)
            except Exception as err:
                self._outage.failed(err, f"settling outbox row {claimed.row.id}")
                if self._stopping or not is_unreachable(err):
                    return None
                await asyncio.sleep(pause)
                pause = min(pause * 2, SETTLE_RETRY_CAP)
            else:
                self._outage.succeeded()
                return settled

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
    ) -> Settled:
        """Record the outcome; claim the next row of the lane if this one is done.

        A claim that ran out meanwhile (a long database outage, a stall) records nothing:
        whoever claimed the row since records theirs, and looks for this attempt's post.
        """
        row = claimed.row
        now = db_now(session)
        if not isinstance(outcome, DeliveryError):
            if not outbox.settle_sent(session, row=row, owner=self.owner, now=now):
                return _TAKEN_OVER
            if outcome is not None:
                outcome(session)  # record what Slack answered (a channel id, a message ts)
            return Settled("sent", self._next_of_lane(session, row.lane, now))
        attempt = Attempt(row.attempts, now - row.created_at, persistent=_awaits_ack(claimed))
        decision = after_failure(
            outcome,
            attempt,
            backoff=self.backoff,
            after_timeout=self.after_timeout,
            after_doubt=self.after_doubt,
        )
        if isinstance(decision, Retry):
            released = outbox.settle_retry(
                session,
                row=row,
                owner=self.owner,
                at=now + decision.after,
                error=str(outcome),
                counted=decision.counted,
                in_doubt=decision.in_doubt,
                earlier=claimed.earlier_attempt,
            )
            if not released:
                return _TAKEN_OVER
            if decision.counted:
                log.warning("outbox row %s (%s) failed, retrying: %s", row.id, row.kind, outcome)
            result: Result = "paced" if isinstance(outcome, PacedError) else "retried"
            return Settled(result, retry_in=decision.after.total_seconds())
        if not outbox.settle_failed(session, row=row, owner=self.owner, error=decision.reason):
            return _TAKEN_OVER
        level = logging.INFO if isinstance(outcome, MootError) else logging.ERROR
        log.log(level, "giving up on outbox row %s (%s): %s", row.id, row.kind, decision.reason)
        # A row of no incident (a rollback drill's webhook) has its hook too.
        hook = self.given_up.get(row.kind)
        if hook is not None and (claimed.incident is not None or row.incident_id is None):
            hook(session, claimed, outcome, now)
        return Settled("failed", self._next_of_lane(session, row.lane, now))

    def _next_of_lane(self, session: Session, lane: str, now: datetime) -> Claimed | None:
        nxt = outbox.claim(session, owner=self.owner, now=now, lease=self.lease, limit=1, lane=lane)
        return _with_facts(session, nxt)[0] if nxt else None


def _awaits_ack(claimed: Claimed) -> bool:
    """A page whose incident nobody has acknowledged yet: never given up on for a
    passing failure."""
    incident = claimed.incident
    return claimed.row.kind == "page" and incident is not None and incident.state == State.OPEN


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
