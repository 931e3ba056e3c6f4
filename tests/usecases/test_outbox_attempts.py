"""The outbox remembers the earliest attempt that may have posted, and a claim that ran
out settles nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.store import outbox
from bot.store.db import Store, db_now
from bot.store.tables import OutboxMessage
from tests.usecases.conftest import ManualClock

LEASE = timedelta(seconds=60)
OWNER = "firebell-a"


def queue_one(db: Store) -> int:
    """One undelivered row of a lane of its own; its id."""

    def queue(session: Session) -> int:
        outbox.enqueue(session, [outbox.Message("page", "dm:U1:inc:0")], now=db_now(session))
        return int(session.execute(select(func.max(col(OutboxMessage.id)))).scalar_one())

    return db.call(queue)


def claim(db: Store, owner: str = OWNER, lease: timedelta = LEASE) -> outbox.Leased:
    """Claim the one row now."""
    (leased,) = db.call(lambda s: outbox.claim(s, owner=owner, now=db_now(s), lease=lease, limit=1))
    return leased


def retry(db: Store, leased: outbox.Leased, *, in_doubt: bool, counted: bool = True) -> bool:
    """Settle `leased` for another try, due at once."""
    return db.call(
        lambda s: outbox.settle_retry(
            s,
            row=leased.row,
            owner=leased.row.lease_owner or "",
            at=db_now(s),
            error="failed",
            counted=counted,
            in_doubt=in_doubt,
            earlier=leased.earlier_attempt,
        )
    )


def stored(db: Store, row_id: int) -> OutboxMessage:
    """The row as the database has it."""
    row = db.call(lambda s: s.get(OutboxMessage, row_id))
    assert row is not None
    return row


def test_an_attempt_known_to_have_sent_nothing_leaves_nothing_to_look_for(
    db: Store, clock: ManualClock
) -> None:
    """A failure before posting (or a 429) puts back what the claim found: nothing."""
    row_id = queue_one(db)
    first = claim(db)
    assert first.earlier_attempt is None
    assert stored(db, row_id).tried_since == clock.at

    assert retry(db, first, in_doubt=False)
    clock.advance(timedelta(seconds=5))

    assert stored(db, row_id).tried_since is None
    assert claim(db).earlier_attempt is None


def test_a_post_in_doubt_is_looked_for_from_its_attempt_whatever_fails_after(
    db: Store, clock: ManualClock
) -> None:
    """A post answered 5xx stays the start of the search through failed history reads,
    rate limits and more claims."""
    queue_one(db)
    posted_at = clock.at
    assert retry(db, claim(db), in_doubt=True)
    for _ in range(3):
        clock.advance(timedelta(seconds=30))
        again = claim(db)
        assert again.earlier_attempt == posted_at
        assert retry(db, again, in_doubt=False, counted=False)
    clock.advance(timedelta(seconds=30))
    assert claim(db).earlier_attempt == posted_at


def test_waiting_out_a_rate_limit_is_not_a_counted_attempt(db: Store) -> None:
    """An uncounted retry gives its attempt back; a counted one keeps it."""
    row_id = queue_one(db)
    assert retry(db, claim(db), in_doubt=False, counted=False)
    assert stored(db, row_id).attempts == 0
    assert retry(db, claim(db), in_doubt=False)
    assert stored(db, row_id).attempts == 1


def test_a_claim_that_ran_out_settles_nothing_even_for_the_same_owner(
    db: Store, clock: ManualClock
) -> None:
    """A settle arriving after the lease ran out and the row was claimed again (a long
    database outage) changes nothing; the newer claim settles as usual."""
    row_id = queue_one(db)
    stale = claim(db, lease=timedelta(seconds=1))
    clock.advance(timedelta(seconds=2))
    fresh = claim(db)
    assert fresh.earlier_attempt == stale.row.tried_since

    assert not retry(db, stale, in_doubt=False)
    assert not db.call(lambda s: outbox.settle_sent(s, row=stale.row, owner=OWNER, now=db_now(s)))
    row = stored(db, row_id)
    assert (row.lease_owner, row.lease_until, row.done) == (OWNER, fresh.row.lease_until, False)
    assert row.tried_since == stale.row.tried_since

    assert db.call(lambda s: outbox.settle_sent(s, row=fresh.row, owner=OWNER, now=db_now(s)))
    assert stored(db, row_id).done


def test_a_clean_shutdown_hands_the_lease_back_and_keeps_what_to_look_for(
    db: Store, clock: ManualClock
) -> None:
    """`release` gives the attempt back; the attempt may have posted, so it is kept."""
    row_id = queue_one(db)
    claimed_at: datetime = clock.at
    claim(db)
    assert db.call(lambda s: outbox.release(s, owner=OWNER)) == 1
    row = stored(db, row_id)
    assert (row.lease_owner, row.attempts, row.tried_since) == (None, 0, claimed_at)
