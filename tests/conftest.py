"""Fixtures: a database (SQLite or PostgreSQL), the fake Slack, a running firebell.

`FIREBELL_TEST_DB=postgresql` runs the suite on PostgreSQL
(`FIREBELL_TEST_POSTGRES_URL`, default `postgresql://postgres@127.0.0.1:5432/test`, is
used to create a throw-away database); the default is SQLite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.config.load import load_config
from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store, make_engine
from bot.store.migrate import upgrade
from tests.harness import Firebell

ROOT = Path(__file__).resolve().parents[1]
TEST_CONFIG = ROOT / "tests" / "configs" / "e2e.yaml"
USERS = [
    "U01ML1",
    "U01ML2",
    "U01PL1",
    "U01DA1",
    "U01PR1",
    "U01LE1",
    "U01MLLEAD",
    "U01PLLEAD",
    "U01DALEAD",
    "U01PRLEAD",
    "U01LELEAD",
    "U0OTHER",
]


def _backend() -> str:
    backend = os.environ.get("FIREBELL_TEST_DB", "sqlite").lower()
    if backend not in ("sqlite", "postgresql"):
        raise pytest.UsageError("FIREBELL_TEST_DB must be sqlite or postgresql")
    return backend


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this test session, dropped afterwards."""
    if _backend() == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'firebell.db'}"
        _migrate(url)
        yield url
        return
    admin_url = os.environ.get(
        "FIREBELL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    name = f"firebell_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def emptied(store: Store) -> Store:
    """`store` after deleting every row and resetting the incident counter."""
    with store.transaction() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name == "counter":
                session.execute(text("UPDATE counter SET value = 0"))
            else:
                session.execute(table.delete())
    return store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store over an emptied database."""
    store = emptied(Store(make_engine(database_url)))
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def config() -> Config:
    """The e2e config: the SPEC example with second-long deadlines."""
    return load_config(TEST_CONFIG)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake Slack workspace that knows every user of the config."""
    fake = FakeSlack().start()
    for user in USERS:
        fake.add_user(user, user.lower())
    yield fake
    fake.stop()


@pytest.fixture
def firebell(
    store: Store, database_url: str, config: Config, fake: FakeSlack
) -> Iterator[Firebell]:
    """firebell serving on a real port against the fake Slack."""
    app = Firebell(database_url=database_url, config=config, fake=fake).start()
    yield app
    app.stop()


@pytest.fixture(scope="session")
def fast_config() -> Config:
    """The SPEC example with second-long response deadlines and escalation steps."""
    return load_config(ROOT / "tests" / "configs" / "fast.yaml")


@pytest.fixture
def launch(
    store: Store, database_url: str, fake: FakeSlack
) -> Iterator[Callable[[Config], Firebell]]:
    """Start firebell instances (replicas, or restarts) on the same database and fake."""
    started: list[Firebell] = []

    def start(config: Config) -> Firebell:
        app = Firebell(database_url=database_url, config=config, fake=fake).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
