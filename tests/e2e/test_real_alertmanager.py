"""A real Alertmanager (Debian's `prometheus-alertmanager`) notifying firebell over HTTP:
the incident it opens, a second alert of the group joining it, and auto-mitigation of the
acknowledged incident once both alerts resolve.

Alertmanager runs on a free loopback port without gossip, with a webhook receiver that
points at firebell's `/hooks/alertmanager` and sends the test's FIREBELL_WEBHOOK_TOKEN,
and with second-long grouping timers. The alerts are posted to its own API
(`POST /api/v2/alerts`), as Prometheus does. Skipped when the binary is missing,
unless FIREBELL_REQUIRE_ALERTMANAGER=1 (as `.ci/run` sets) makes that a failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import Alert, AlertNotification
from tests.e2e.scenario import (
    answer_text,
    incident,
    incident_count,
    main_message,
    ml_on_call,
    wait_declared,
)
from tests.harness import WEBHOOK_TOKEN, Firebell, running
from tests.slo.pipeline import running_alertmanager

SERVICE = "checkout-assistant"  # area `model` in the e2e config
NAME = "CheckoutLatencyHigh"
WAIT_S = 15.0  # any one step: Alertmanager flushes a group every 2 s here


@pytest.fixture
def alertmanager(tmp_path: Path, mitigating: Firebell) -> Iterator[str]:
    """A real Alertmanager notifying `mitigating` (groups flushed every 2 s); its base URL.
    Stopped afterwards."""
    hook = f"{mitigating.url}/hooks/alertmanager"
    with running_alertmanager(
        tmp_path, hook=hook, token=WEBHOOK_TOKEN, repeat="4h", interval="2s"
    ) as process:
        yield process.url


@pytest.fixture
def mitigating(
    store: Store, database_url: str, config: Config, fake: FakeSlack
) -> Iterator[Firebell]:
    """firebell with `alerts: {auto_mitigate: true}`."""
    alerts = config.alerts.model_copy(update={"auto_mitigate": True})
    with running(database_url, config.model_copy(update={"alerts": alerts}), fake) as app:
        yield app


def fire(alertmanager: str, instance: str, starts: datetime, ends: datetime | None = None) -> None:
    """Post one alert of the group to Alertmanager's API, as Prometheus does (resolved
    when `ends` is in the past)."""
    alert: dict[str, Any] = {
        "labels": {
            "alertname": NAME,
            "service": SERVICE,
            "severity": "critical",
            "instance": instance,
        },
        "annotations": {"summary": f"p95 latency over 3 s on {instance}"},
        "startsAt": starts.isoformat(),
        "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=latency",
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    answer = httpx.post(f"{alertmanager}/api/v2/alerts", json=[alert], timeout=5)
    assert answer.status_code == 200, answer.text


def alerts(store: Store) -> list[Alert]:
    """Every alert firebell keeps, oldest first."""

    def rows(session: Session) -> list[Alert]:
        return list(session.execute(select(Alert).order_by(col(Alert.id))).scalars())

    return store.call(rows)


def notifications(store: Store) -> list[AlertNotification]:
    """Every notification firebell kept, oldest first."""

    def rows(session: Session) -> list[AlertNotification]:
        query = select(AlertNotification).order_by(col(AlertNotification.id))
        return list(session.execute(query).scalars())

    return store.call(rows)


def test_a_real_alertmanager_opens_groups_and_mitigates_an_incident(
    alertmanager: str, mitigating: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """Alertmanager's notifications open one incident with its channel, alert list and
    page; a second alert of the group joins it; acknowledged and both resolved: mitigated,
    never resolved."""
    starts = datetime.now(UTC) - timedelta(seconds=5)
    fire(alertmanager, "10.0.0.1:8080", starts)
    declared = wait_declared(fake, store, 1, timeout=WAIT_S)
    assert NAME in json.dumps(declared.main.blocks)
    assert "1 alert firing" in json.dumps(declared.main.blocks)
    responsible = ml_on_call(config)
    fake.wait_for(lambda: fake.dms_to(responsible), timeout=WAIT_S)
    first = notifications(store)
    assert [n.outcome for n in first] == ["opened"]
    assert first[0].body["receiver"] == "firebell"

    fire(alertmanager, "10.0.0.2:8080", starts)
    both = store_wait(store, lambda rows: len(rows) == 2)
    assert {a.incident_id for a in both} == {declared.id}
    assert {a.labels["instance"] for a in both} == {"10.0.0.1:8080", "10.0.0.2:8080"}
    fake.wait_for(
        lambda: "2 alerts firing" in json.dumps(_main(fake, declared.channel)), timeout=WAIT_S
    )
    assert incident_count(store) == 1
    # Only an incident someone has looked at is mitigated by its alerts resolving.
    acked = answer_text(
        mitigating.slack.command("ack", user_id=responsible, channel_id=declared.channel)
    )
    assert "INC-1" in acked

    ended = datetime.now(UTC) - timedelta(seconds=1)
    fire(alertmanager, "10.0.0.1:8080", starts, ended)
    fire(alertmanager, "10.0.0.2:8080", starts, ended)
    fake.wait_for(lambda: _state(store) == "mitigated", timeout=WAIT_S)
    assert {a.status for a in alerts(store)} == {"resolved"}
    assert "resolved" in [n.body["status"] for n in notifications(store)]
    assert {n.group_key for n in notifications(store)} == {first[0].group_key}
    time.sleep(2.5)  # one more group_interval: Alertmanager has nothing more to say
    found = incident(store, 1)
    assert found is not None
    assert found.state == "mitigated"
    assert found.resolved_at is None
    assert incident_count(store) == 1


def store_wait(store: Store, done: Callable[[list[Alert]], bool]) -> list[Alert]:
    """Poll the kept alerts until `done(alerts)` holds (WAIT_S at most)."""
    deadline = time.monotonic() + WAIT_S
    while not done(rows := alerts(store)):
        assert time.monotonic() < deadline, f"alerts kept: {[a.labels for a in rows]}"
        time.sleep(0.1)
    return rows


def _main(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    main = main_message(fake, channel)
    return [] if main is None else main.blocks


def _state(store: Store) -> str | None:
    found = incident(store, 1)
    return None if found is None else found.state
