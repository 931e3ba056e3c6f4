"""The throw-away PostgreSQL cluster starts, stops and starts again, quickly."""

from __future__ import annotations

import time

import pytest
import sqlalchemy
from sqlalchemy import create_engine, text

from bot.store.db import make_engine
from tests import pgcluster
from tests.pgcluster import PgCluster, StopMode, why_unavailable

pg_cluster = pgcluster.pg_cluster  # the fixture, under its own name

CONNECT = {"connect_timeout": 2}


def answers(url: str) -> bool:
    """Whether a fresh SQLAlchemy connection to ``url`` runs a query."""
    engine = create_engine(url, connect_args=CONNECT, poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as connection:
            return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)
    except sqlalchemy.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def test_cluster_accepts_sqlalchemy_connections_on_its_own_port(pg_cluster: PgCluster) -> None:
    """A started cluster answers on its loopback port, never the shared 5432."""
    assert pg_cluster.port != 5432
    assert pg_cluster.url == f"postgresql://postgres@127.0.0.1:{pg_cluster.port}/postgres"
    assert answers(pg_cluster.sqlalchemy_url)


def test_firebells_engine_takes_the_plain_url(pg_cluster: PgCluster) -> None:
    """make_engine picks psycopg for ``url``; settings from initdb are in force."""
    engine = make_engine(pg_cluster.url)
    try:
        with engine.connect() as connection:
            fsync = connection.execute(text("SHOW fsync")).scalar_one()
            listen = connection.execute(text("SHOW listen_addresses")).scalar_one()
    finally:
        engine.dispose()
    assert (fsync, listen) == ("off", "127.0.0.1")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_stopped_cluster_refuses_connections_until_started_again(
    pg_cluster: PgCluster, mode: StopMode
) -> None:
    """While stopped nothing connects; after start() the same URL works and data survived."""
    url = pg_cluster.create_database("outage")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE kept (n int)"))
        connection.execute(text("INSERT INTO kept VALUES (1)"))
    engine.dispose()

    pg_cluster.stop(mode=mode)
    assert not answers(pg_cluster.sqlalchemy_url)
    pg_cluster.start()

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT n FROM kept")).scalar_one() == 1
    finally:
        engine.dispose()


def test_restart_keeps_the_port_and_a_pooled_engine_recovers(pg_cluster: PgCluster) -> None:
    """After restart() an engine made before it connects again on the same URL."""
    engine = make_engine(pg_cluster.url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        port = pg_cluster.port
        pg_cluster.restart(mode="immediate", down_for=0.2)
        assert pg_cluster.port == port
        engine.dispose()  # the pool's connections died with the old server
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_start_and_stop_take_a_few_seconds_and_leave_nothing_behind() -> None:
    """initdb plus start, a stop and a start each take seconds; the directory is removed."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    started = time.monotonic()
    with PgCluster() as cluster:
        up = time.monotonic() - started
        root = cluster.root
        started = time.monotonic()
        cluster.stop(mode="fast")
        down = time.monotonic() - started
        started = time.monotonic()
        cluster.start()
        again = time.monotonic() - started
    assert not root.exists()
    assert not answers(cluster.sqlalchemy_url)
    assert up < 10, up
    assert down < 5, down
    assert again < 5, again
