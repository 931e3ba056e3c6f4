"""The SLO pipeline end to end, with the real programs: a service's exporter, Prometheus
(Debian's `prometheus`) scraping it every second with the rules `firebell slo rules`
writes, Alertmanager (`prometheus-alertmanager`) notifying firebell's `/hooks/alertmanager`.

The windows are scaled down 60 times (`--window-scale 60`): the P1 burn alert's 1h and 5m
become 1m and 5s (five scrapes), so it fires seconds after the service starts failing
and resolves seconds after it recovers. The slower burns (6h/30m as 6m/30s, 3d/6h as
1h12m/6m) fire too and keep firing, as they would for hours after a real outage. The
latency alerts' `for` is scaled too: paging above 5s holds 5 s (5m), 3s 15 s (15m).
Skipped without the binaries, unless FIREBELL_REQUIRE_PROMETHEUS=1 and
FIREBELL_REQUIRE_ALERTMANAGER=1 (as `.ci/run` sets) make that a failure.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.config.load import load_config
from bot.config.model import Config
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from bot.store.tables import Alert, Incident
from tests.e2e.scenario import (
    entries,
    incident,
    incident_count,
    main_message,
    posts_in,
    shown_text,
)
from tests.harness import WEBHOOK_TOKEN, Firebell, running
from tests.slo.pipeline import Pipeline, running_pipeline

log = logging.getLogger(__name__)
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "slo.yaml"
SERVICE = "checkout-assistant"  # 99.5%, p95 3s, paging above 5s; area `model` (ML team)
WINDOW_SCALE = 60
P1_BURN = "SloSuccessRateBurn1h"
LATENCY_PAGE = "SloLatencyP95AbovePage"  # page_latency_above: 5s, for 5m
REF = "INC-1"
OWNING_TEAM = ("U01ML1", "U01ML2", "U01MLLEAD")  # P1 pages the R team and the A
FIRES_S = 30.0  # failing to a P1 incident on Slack: 2-4 s here (latency: 5 s more)
RESOLVES_S = 30.0  # recovered to its alert shown resolved on Slack: 4-6 s here


@pytest.fixture(scope="module")
def slo_config() -> Config:
    """One service with an agreed success rate and latency."""
    return load_config(CONFIG)


@pytest.fixture
def slo_firebell(
    store: Store, database_url: str, slo_config: Config, fake: FakeSlack
) -> Iterator[Firebell]:
    """firebell serving the SLO config."""
    with running(database_url, slo_config, fake) as app:
        yield app


@pytest.fixture
def pipeline(tmp_path: Path, slo_firebell: Firebell) -> Iterator[Pipeline]:
    """The exporter, Alertmanager and Prometheus, notifying `slo_firebell`."""
    with running_pipeline(
        tmp_path,
        config=CONFIG,
        service=SERVICE,
        hook=f"{slo_firebell.url}/hooks/alertmanager",
        token=WEBHOOK_TOKEN,
        window_scale=WINDOW_SCALE,
    ) as running_one:
        yield running_one


def test_a_failing_service_opens_a_p1_incident_naming_its_agreed_target_and_its_recovery_is_told(
    pipeline: Pipeline, fake: FakeSlack, store: Store
) -> None:
    """Healthy traffic fires nothing; half the requests failing opens one P1 incident on
    the service titled with the agreed 99.5% and pages the owning team; recovered, the
    P1 burn alert shows resolved on the main message and the incident stays open for a
    person to close."""
    _wait_healthy(pipeline, store)
    pipeline.exporter.succeed(0.5)
    failing = time.monotonic()
    found, main = pipeline.wait_for(
        f"a P1 incident on {SERVICE} showing {P1_BURN}",
        lambda: _p1_with(fake, store, P1_BURN),
        timeout=FIRES_S,
        more=lambda: _seen(fake, store),
    )
    log.info("P1 incident on Slack %.1f s after the service began failing", _since(failing))
    assert found.service == SERVICE
    assert re.fullmatch(
        rf"{SERVICE} success rate \d+(\.\d+)?% over \S+ \(agreed 99\.5%\): "
        r"error budget burning \d+\.\dx",
        found.title,
    ), found.title
    assert "agreed 99.5%" in shown_text(main)
    # The burns of all three windows fire within a second or so, as three groups;
    # whichever comes first declares the incident, and the P1 burn raises it to P1.
    declared = next(e for e in entries(store, _id(found)) if e.kind == "declared")
    assert (declared.data["origin"], declared.data["service"]) == ("alert", SERVICE)
    changes = [e for e in entries(store, _id(found)) if e.kind == "severity_changed"]
    steps = [declared.data["severity"], *(e.data["to"] for e in changes)]
    assert steps[-1] == "P1"
    assert steps == sorted(steps, reverse=True), steps  # only ever raised (P1 sorts before P2)
    assert {e.actor for e in changes} <= {"firebell"}
    burn = next(a for a in _alerts(store) if a.name == P1_BURN)
    assert burn.incident_id == found.id
    assert {k: burn.labels[k] for k in ("service", "firebell_severity", "slo")} == {
        "service": SERVICE,
        "firebell_severity": "P1",
        "slo": "success_rate",
    }
    pipeline.wait_for(
        "the owning team paged",
        lambda: all(fake.dms_to(user) for user in OWNING_TEAM),
        timeout=10,
        more=fake.dump,
    )

    pipeline.exporter.succeed(1.0)
    recovered = time.monotonic()
    told = pipeline.wait_for(
        f"{P1_BURN} shown resolved on the main message",
        lambda: _resolved_on(fake, found, P1_BURN),
        timeout=RESOLVES_S,
        more=lambda: _seen(fake, store),
    )
    log.info("P1 burn resolved on Slack %.1f s after the service recovered", _since(recovered))
    assert re.search(r"\*Alerts\* · \d of \d alerts resolved", shown_text(told))
    assert "alerts_resolved" in [e.kind for e in entries(store, _id(found))]
    now = incident(store, 1)
    assert now is not None
    # The slower burns still fire (their windows hold the failures), and only a person
    # resolves an incident.
    assert now.state == "open"
    assert now.resolved_at is None
    assert incident_count(store) == 1
    assert {a.incident_id for a in _alerts(store)} == {found.id}


def test_slow_answers_page_only_after_the_scaled_hold_and_all_resolved_is_told(
    pipeline: Pipeline, fake: FakeSlack, store: Store
) -> None:
    """p95 latency above the 5s paging threshold opens a P1 incident only once it has
    held for the rule's `for` (5m, 5 s here); answers fast again, its alerts resolve, the
    channel is told so, and the incident stays open."""
    _wait_healthy(pipeline, store)
    pipeline.exporter.respond_in(8.0)
    slow = time.monotonic()
    pending = pipeline.wait_for(
        f"{LATENCY_PAGE} pending in Prometheus",
        lambda: _prometheus_alert(pipeline, LATENCY_PAGE, "pending"),
        timeout=FIRES_S,
    )
    assert incident_count(store) == 0  # held for 5 s before it fires
    found, main = pipeline.wait_for(
        f"a P1 incident on {SERVICE} showing {LATENCY_PAGE}",
        lambda: _p1_with(fake, store, LATENCY_PAGE),
        timeout=FIRES_S,
        more=lambda: _seen(fake, store),
    )
    log.info("P1 incident on Slack %.1f s after the service slowed down", _since(slow))
    assert found.service == SERVICE
    assert re.fullmatch(
        rf"{SERVICE} p95 latency \d+(\.\d+)?s over 5s \(paging threshold 5s\)", found.title
    ), found.title
    assert "paging threshold 5s" in shown_text(main)
    page = next(a for a in _alerts(store) if a.name == LATENCY_PAGE)
    assert (page.labels["firebell_severity"], page.labels["slo"]) == ("P1", "page_latency_above")
    assert page.starts_at is not None
    active = datetime.fromisoformat(pending["activeAt"])
    active = active.replace(microsecond=active.microsecond // 1000 * 1000)  # as Alertmanager has it
    assert page.starts_at - active >= timedelta(seconds=5), (active, page.starts_at)

    pipeline.exporter.respond_in(0.05)
    fast = time.monotonic()
    channel = found.channel_id
    assert channel is not None
    told = pipeline.wait_for(
        "the channel told that all alerts resolved",
        lambda: [t for t in posts_in(fake, channel) if f" of {REF} resolved" in t],
        timeout=RESOLVES_S,
        more=lambda: _seen(fake, store),
    )
    log.info("all alerts resolved on Slack %.1f s after the service was fast again", _since(fast))
    assert re.match(rf":white_check_mark: All \d+ alerts? of {REF} resolved", told[0])
    assert next(a for a in _alerts(store) if a.name == LATENCY_PAGE).status == "resolved"
    now = incident(store, 1)
    assert now is not None
    assert (now.state, now.resolved_at) == ("open", None)  # a person closes it
    assert incident_count(store) == 1


def _wait_healthy(pipeline: Pipeline, store: Store) -> None:
    """Wait until Prometheus has recorded the healthy service (every request a success,
    p95 in the first bucket); nothing fires meanwhile."""
    selector = f'{{service="{SERVICE}"}}'
    success = f"firebell:slo_success_ratio:rate5m{selector}"
    p95 = f"firebell:slo_latency_p95_seconds:rate5m{selector}"
    pipeline.wait_for(
        "the healthy service recorded: success ratio 1, p95 under 0.1 s",
        lambda: _value(pipeline, success) == 1.0 and (_value(pipeline, p95) or 1) <= 0.1,
        timeout=20,
    )
    assert pipeline.alerts() == []
    assert incident_count(store) == 0


def _value(pipeline: Pipeline, expr: str) -> float | None:
    """The value of a query that gives one sample, or None before it does."""
    samples = pipeline.query(expr)
    return float(samples[0]["value"][1]) if samples else None


def _prometheus_alert(pipeline: Pipeline, name: str, state: str) -> dict[str, Any] | None:
    """Prometheus's alert `name` once it is in `state` (pending, firing)."""
    return next(
        (
            a
            for a in pipeline.alerts()
            if a["labels"].get("alertname") == name and a["state"] == state
        ),
        None,
    )


def _p1_with(fake: FakeSlack, store: Store, name: str) -> tuple[Incident, Message] | None:
    """INC-1 once it is P1 and its main message lists the alert `name`."""
    found = incident(store, 1)
    if found is None or found.severity != "P1" or found.channel_id is None:
        return None
    main = main_message(fake, found.channel_id)
    if main is None or name not in shown_text(main):
        return None
    return found, main


def _resolved_on(fake: FakeSlack, found: Incident, name: str) -> Message | None:
    """The incident's main message once it shows the alert `name` resolved."""
    assert found.channel_id is not None
    main = main_message(fake, found.channel_id)
    resolved = rf":white_check_mark: (<[^|>]*\|)?{name}\b"
    return main if main is not None and re.search(resolved, shown_text(main)) else None


def _alerts(store: Store) -> list[Alert]:
    """Every alert firebell keeps, oldest first."""

    def rows(session: Session) -> list[Alert]:
        return list(session.execute(select(Alert).order_by(col(Alert.id))).scalars())

    return store.call(rows)


def _seen(fake: FakeSlack, store: Store) -> str:
    """What firebell made of it so far, for a failure message."""
    found = incident(store, 1)
    kept = [(a.name, a.status, a.labels.get("firebell_severity")) for a in _alerts(store)]
    about = "no incident" if found is None else f"INC-1 {found.severity} {found.state}"
    return f"{about}; alerts kept: {kept}\n{fake.dump()}"


def _id(found: Incident) -> int:
    assert found.id is not None
    return found.id


def _since(began: float) -> float:
    return time.monotonic() - began
