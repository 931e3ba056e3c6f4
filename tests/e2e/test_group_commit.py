"""Group commit: use cases arriving together share a transaction, errors stay their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy import event, func, select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.incidents.declare import Declaration, Declared, declare
from bot.incidents.errors import UserError
from bot.store.db import Store, is_postgres
from bot.store.group import GroupCommit
from bot.store.tables import Incident, OutboxMessage
from tests.e2e.scenario import SERVICE

T = TypeVar("T")


def run(store: Store, scenario: Callable[[GroupCommit], Awaitable[T]]) -> tuple[T, GroupCommit]:
    """Run `scenario` with a fresh GroupCommit on an event loop of its own."""
    group = GroupCommit(store)

    async def main() -> T:
        try:
            return await scenario(group)
        finally:
            await store.aclose()

    return asyncio.run(main()), group


def declaration(title: str, *, severity: str = "P1", key: str | None = None) -> Declaration:
    return Declaration(
        title=title, severity=severity, declared_by="U0OTHER", service=SERVICE, request_key=key
    )


def numbers(session: Session) -> list[int]:
    return sorted(session.execute(select(col(Incident.number))).scalars())


def test_declarations_arriving_together_share_transactions_and_each_gets_its_own(
    store: Store, config: Config
) -> None:
    """Twenty concurrent declarations commit in fewer transactions, each answered with its own."""

    async def scenario(group: GroupCommit) -> list[Declared]:
        calls = [
            group.run_with_info(declare, config, declaration(f"Outage {i}")) for i in range(20)
        ]
        return [result for result, _ in await asyncio.gather(*calls)]

    declared, group = run(store, scenario)

    assert [d.incident.title for d in declared] == [f"Outage {i}" for i in range(20)]
    assert all(d.created for d in declared)
    assert group.jobs == 20
    assert group.batches < 20
    with store.transaction() as session:
        assert numbers(session) == list(range(1, 21))
        outbox = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        assert outbox > 20


def test_a_failing_use_case_fails_alone_and_the_rest_of_its_batch_commits(
    store: Store, config: Config
) -> None:
    """A bad severity in the middle of a batch is that request's error; numbers stay gapless."""

    async def scenario(group: GroupCommit) -> list[Declared | BaseException]:
        calls = [
            group.run_with_info(
                declare, config, declaration(f"Outage {i}", severity="P9" if i == 3 else "P2")
            )
            for i in range(8)
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        return [o if isinstance(o, BaseException) else o[0] for o in outcomes]

    outcomes, _ = run(store, scenario)

    assert isinstance(outcomes[3], UserError)
    assert "P9" in str(outcomes[3])
    created = [o for o in outcomes if isinstance(o, Declared)]
    assert [d.incident.title for d in created] == [f"Outage {i}" for i in range(8) if i != 3]
    with store.transaction() as session:
        assert numbers(session) == list(range(1, 8))


def test_a_retried_request_in_the_same_batch_finds_the_incident_it_created(
    store: Store, config: Config
) -> None:
    """Slack's retry arriving with the original still uncommitted declares nothing twice."""

    async def scenario(group: GroupCommit) -> list[Declared]:
        same = declaration("Checkout is down", key="trigger-1")
        calls = [group.run_with_info(declare, config, same) for _ in range(3)]
        return [result for result, _ in await asyncio.gather(*calls)]

    declared, _ = run(store, scenario)

    assert [d.created for d in declared] == [True, False, False]
    assert len({d.incident.id for d in declared}) == 1
    with store.transaction() as session:
        assert numbers(session) == [1]


def test_copies_of_one_request_in_a_batch_declare_once(store: Store, config: Config) -> None:
    """Separate copies of one Slack request (a retry) sharing a transaction: one incident."""

    async def scenario(group: GroupCommit) -> list[Declared]:
        calls = [
            group.run_with_info(declare, config, declaration("Checkout is down", key="trigger-1"))
            for _ in range(3)
        ]
        other = group.run_with_info(declare, config, declaration("Search is slow", key="t-2"))
        return [result for result, _ in await asyncio.gather(*calls, other)]

    declared, _ = run(store, scenario)

    assert [d.created for d in declared] == [True, False, False, True]
    assert len({d.incident.id for d in declared[:3]}) == 1
    with store.transaction() as session:
        assert numbers(session) == [1, 2]


def test_declarations_sharing_a_transaction_insert_their_incidents_together(
    store: Store, config: Config
) -> None:
    """One lookup of request keys, one counter update and one INSERT for a whole batch,
    however the calls pass their arguments."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(" ".join(sql.split()).lower())

    event.listen(store.engine, "before_cursor_execute", seen)

    async def scenario(group: GroupCommit) -> list[Declared]:
        if is_postgres(store.engine):  # its transactions run on the async engine
            engine = store._async_engine().sync_engine
            event.listen(engine, "before_cursor_execute", seen)
        calls = [
            group.run_with_info(declare, config, declaration(f"Outage {i}", key=f"k-{i}"))
            if i % 2
            else group.run_with_info(
                declare, config=config, declaration=declaration(f"Outage {i}", key=f"k-{i}")
            )
            for i in range(8)
        ]
        return [result for result, _ in await asyncio.gather(*calls)]

    declared, group = run(store, scenario)

    assert [d.incident.number for d in declared] == list(range(1, 9))
    assert group.batches < 8
    counted = {
        kind: sum(sql.startswith(prefix) for sql in statements)
        for kind, prefix in {
            "lookups": "select incident.id, incident.request_key",
            "numbers": "update counter",
            "inserts": "insert into incident ",
        }.items()
    }
    assert counted == {"lookups": group.batches, "numbers": group.batches,
                       "inserts": group.batches}


def declare_inside(session: Session, config: Config, d: Declaration) -> Declared:
    """A use case that declares through another function (as the form does)."""
    return declare(session, config, d)


def test_a_declaration_the_batch_cannot_see_declares_nothing_twice(
    store: Store, config: Config
) -> None:
    """A keyless declaration, then one made inside another use case, in one batch: two
    incidents, not a second copy of the first."""

    async def scenario(group: GroupCommit) -> list[Declared]:
        calls = [
            group.run_with_info(declare, config, declaration("Outage A")),
            group.run_with_info(declare_inside, config, declaration("Outage B", key="v-1")),
        ]
        return [result for result, _ in await asyncio.gather(*calls)]

    declared, _ = run(store, scenario)

    assert [d.incident.title for d in declared] == ["Outage A", "Outage B"]
    with store.transaction() as session:
        assert numbers(session) == [1, 2]


def test_a_caller_that_gives_up_does_not_disturb_the_others(
    store: Store, config: Config
) -> None:
    """A cancelled request's declaration may still commit; everyone else gets an answer."""

    async def scenario(group: GroupCommit) -> list[Declared]:
        tasks = [
            asyncio.create_task(group.run_with_info(declare, config, declaration(f"Outage {i}")))
            for i in range(6)
        ]
        await asyncio.sleep(0)
        tasks[2].cancel()
        with pytest.raises(asyncio.CancelledError):
            await tasks[2]
        return [(await task)[0] for i, task in enumerate(tasks) if i != 2]

    declared, _ = run(store, scenario)

    assert [d.incident.title for d in declared] == [f"Outage {i}" for i in range(6) if i != 2]
