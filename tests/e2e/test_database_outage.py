"""A PostgreSQL restart mid-storm: nothing dies, delivery resumes within seconds.

The database is a throw-away cluster of this test's own (`tests.pgcluster`), never the
machine's shared one: it is stopped hard (as a crash or a failover would) for a few
seconds while Slack is slow enough that deliveries are in flight, then started again on
the same port.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.sandbox.faults import Chaos
from bot.store.db import Store, make_engine
from bot.store.migrate import upgrade
from tests import pgcluster
from tests.e2e.scenario import ACK, answer_text, outbox_rows
from tests.harness import FAST, running

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        os.environ.get("FIREBELL_TEST_DB", "sqlite") != "postgresql",
        reason="a PostgreSQL outage: runs with FIREBELL_TEST_DB=postgresql",
    ),
]
pg_cluster = pgcluster.pg_cluster

STORM = 20
OUTAGE = 8.0  # seconds the database is away
DATA_ON_CALL = "U01DA1"


@pytest.fixture
def cluster_store(pg_cluster: pgcluster.PgCluster) -> Iterator[Store]:
    """The throw-away cluster, migrated, with a store of the test's own over it."""
    engine = make_engine(pg_cluster.url)
    upgrade(engine)
    store = Store(engine)
    yield store
    store.dispose()


def test_delivery_resumes_within_seconds_after_a_postgresql_restart_and_buttons_get_an_answer(
    pg_cluster: pgcluster.PgCluster,
    cluster_store: Store,
    config: Config,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopped mid-storm: no lane dies, no traceback is logged, an Acknowledge press and
    a command get a clear answer, and delivery resumes within 5 s of the restart."""
    caplog.set_level(logging.INFO)
    fake.chaos(Chaos(latency=(0.2, 0.5)))  # slow enough that rows are in flight
    # Production's poll and lease: a lane that died would leave its row for 60 s.
    tuning = replace(FAST, poll_interval=1.0, lease=timedelta(seconds=60))
    with running(pg_cluster.url, config, fake, tuning) as app:
        for i in range(STORM):
            answer = answer_text(app.slack.command(f"declare P2 Storm {i} area:data"))
            assert re.search(r"INC-\d+", answer)
        page = fake.wait_for(lambda: fake.dms_to(DATA_ON_CALL))[0]
        assert not all(r.done for r in outbox_rows(cluster_store))  # a storm in flight

        pg_cluster.stop(mode="immediate")
        pressed = app.slack.block_action(ACK, None, user_id=DATA_ON_CALL, channel_id=page.channel)
        typed = app.slack.command("list")
        scraped = app.get("/metrics")
        time.sleep(OUTAGE)
        pg_cluster.start()
        back = time.time()
        cluster_store.engine.dispose()  # the test's own connections died with the server

        assert pressed.status_code == 200
        told = fake.wait_for(lambda: [r.body.get("text", "") for r in fake.responses])
        assert any("cannot reach its database" in text for text in told), told
        assert "cannot reach its database" in answer_text(typed)
        assert scraped.status_code == 200
        assert "\nfirebell_database_up 0.0\n" in scraped.text
        assert "firebell_deliveries_total" in scraped.text

        def delivered() -> bool:
            rows = outbox_rows(cluster_store)
            return len(rows) > STORM and all(r.done for r in rows)

        def sent_since_back() -> bool:
            rows = outbox_rows(cluster_store)
            return any(r.sent_at is not None and r.sent_at.timestamp() > back for r in rows)

        fake.wait_for(sent_since_back, timeout=5, interval=0.1)
        fake.wait_for(delivered, timeout=30, interval=0.2)
    fake.calm()

    rows = outbox_rows(cluster_store)
    assert [f"{r.kind}: {r.last_error}" for r in rows if r.failed] == []
    posted = [m.metadata["event_payload"]["outbox_row"] for m in fake.messages if m.metadata]
    assert len(posted) == len(set(posted)), "a post went out twice"
    assert len([u for u in fake.dms_to(DATA_ON_CALL) if "Storm" in u.text]) == STORM
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
    assert tracebacks == []
    outage_lines = [r for r in caplog.records if "cannot reach the database" in r.getMessage()]
    # Delivery's and the deadline clock's, once each unless a success came in between.
    assert 1 <= len(outage_lines) <= 4
