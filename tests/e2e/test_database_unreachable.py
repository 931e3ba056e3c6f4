"""Presses, commands and form submissions while the database cannot be reached.

The app's request store is pointed at a database that refuses connections (PostgreSQL
on a port nobody listens on) or cannot be opened (SQLite in a missing folder); delivery
and the deadline clock keep their own stores. A PostgreSQL restart in the middle of a
storm is tested with delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.fake import FakeSlack
from bot.slack.errors import UNREACHABLE
from bot.store.db import Store, make_engine
from tests.e2e.scenario import ACK, Declared, answer_text, incident, incident_count
from tests.harness import Firebell
from tests.serving import free_port


@pytest.fixture(params=["postgresql-refusing", "sqlite-unopenable"])
def away_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database that cannot be reached."""
    if request.param == "postgresql-refusing":
        return f"postgresql://postgres@127.0.0.1:{free_port()}/firebell"
    return f"sqlite:///{tmp_path / 'missing' / 'firebell.db'}"


@contextmanager
def database_away(firebell: Firebell, url: str) -> Iterator[None]:
    """Requests reach the database at `url` (unreachable) within the block."""
    store = firebell.runtime.store
    reachable = store.engine
    store.engine = make_engine(url)
    try:
        yield
    finally:
        store.engine.dispose()
        store.engine = reachable


def _one_warning_and_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text] == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "database is unreachable" in warnings[0]


def test_acknowledge_pressed_while_the_database_is_away_says_nothing_changed(
    firebell: Firebell,
    fake: FakeSlack,
    declared: Declared,
    away_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The press gets HTTP 200 and, through its response_url, the clear answer."""
    response_url = fake.response_url()
    with database_away(firebell, away_url):
        response = firebell.slack.block_action(
            ACK, None, user_id="U01ML1", channel_id=declared.channel, response_url=response_url
        )
        told = fake.wait_for(lambda: [r for r in fake.responses if response_url.endswith(r.id)])

    assert response.status_code == 200, response.text
    assert told[0].text == UNREACHABLE
    _one_warning_and_no_traceback(caplog)
    found = incident(firebell.runtime.store, declared.number)
    assert found is not None
    assert found.state == "open"


def test_command_while_the_database_is_away_says_nothing_changed(
    firebell: Firebell,
    store: Store,
    declared: Declared,
    away_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`/incident ack` in the channel is answered with the clear sentence, not an error id."""
    with database_away(firebell, away_url):
        answer = answer_text(firebell.slack.command("ack", channel_id=declared.channel))

    assert answer == UNREACHABLE
    _one_warning_and_no_traceback(caplog)
    found = incident(store, declared.number)
    assert found is not None
    assert found.state == "open"


def test_form_submitted_while_the_database_is_away_stays_open_saying_why(
    firebell: Firebell, store: Store, away_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The declare form shows the clear sentence under its title; nothing is declared."""
    form: dict[str, dict[str, Any]] = {
        "title": {"value": "Prices are wrong"},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "P2"}}},
        "scope": {"value": {"type": "static_select", "selected_option": {"value": "area:infra"}}},
    }
    with database_away(firebell, away_url):
        response = firebell.slack.view_submission("declare_incident", form, user_id="U01ML1")

    assert response.status_code == 200, response.text
    assert response.json() == {"response_action": "errors", "errors": {"title": UNREACHABLE}}
    _one_warning_and_no_traceback(caplog)
    assert incident_count(store) == 0
