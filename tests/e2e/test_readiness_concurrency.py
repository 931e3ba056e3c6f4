"""Two sign-offs (a double click) or two stage moves of one service at the same moment,
on the real database: one row each time, the other request told it is done already."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import pytest
from sqlalchemy import delete, func, select
from sqlmodel import Session

from bot.config.load import parse_config
from bot.config.model import Config
from bot.governance.signoffs import sign_off
from bot.governance.staging import move_stage
from bot.store.db import Store
from bot.store.tables import SignOff, StageChange
from tests.e2e.test_readiness_commands import READY_CONFIG

T = TypeVar("T")
SERVICE = "checkout-assistant"
ROUNDS = 5
# beta needs only the RACI row here, which the e2e config completes: every move may pass.
CONFIG = READY_CONFIG.replace(
    "stages: {beta: [stakeholders, raci, owner, slo, runbook], full: [rollback, pii]}",
    "stages: {beta: [raci]}",
)


@pytest.fixture
def config() -> Config:
    """The readiness config with an easy beta gate."""
    return parse_config(CONFIG)


def at_once(store: Store, fn: Callable[[Session], T]) -> list[T]:
    """`fn` in two transactions started together, from two threads."""
    start = threading.Barrier(2)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait(timeout=5)
        try:
            results.append(store.call(fn))
        except BaseException as err:  # reported by the test below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors, errors
    assert len(results) == 2
    return results


def count(store: Store, table: Any) -> int:
    """How many rows `table` has."""
    return int(
        store.call(lambda s: s.execute(select(func.count()).select_from(table)).scalar_one())
    )


def test_a_double_clicked_sign_off_records_one_row(store: Store, config: Config) -> None:
    """Two identical sign-offs at once: one is recorded, the other finds it kept."""
    for _ in range(ROUNDS):
        store.call(lambda s: s.execute(delete(SignOff)))
        results = at_once(
            store, lambda s: sign_off(s, config, service=SERVICE, role="legal", user="U01LEGAL")
        )
        assert sorted(r.outcome for r in results) == ["already", "recorded"]
        assert count(store, SignOff) == 1


def test_two_moves_at_once_apply_one_after_the_other(store: Store, config: Config) -> None:
    """Two moves to beta at once: one moves from internal, the other finds it at beta;
    two moves back at once likewise."""
    for round_ in range(ROUNDS):
        target = "beta" if round_ % 2 == 0 else "internal"
        results = at_once(
            store,
            partial(
                move_stage,
                config=config,
                runbooks={},
                service=SERVICE,
                stage=target,
                user="U0OTHER",
            ),
        )
        assert sorted(r.outcome for r in results) == ["moved", "same"], results
    assert count(store, StageChange) == ROUNDS
