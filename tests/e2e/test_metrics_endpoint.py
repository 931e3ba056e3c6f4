"""`GET /metrics` of a running firebell: what an operator scrapes, in a form Prometheus'
own `promtool check metrics` accepts, and counters that move with the work done."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config.model import Config
from bot.config.model import Rollback as RollbackHook
from bot.metrics import DatabaseFacts, database_families
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.webhooks.standard import new_secret
from tests.e2e import scenario
from tests.e2e.scenario import ACK, SERVICE, wait_delivered
from tests.e2e.test_escalation import at_least, declare
from tests.e2e.test_rollback import SECRET_ENV, confirm, deployed, ended, submit
from tests.harness import WEBHOOK_TOKEN, Firebell
from tests.receiver import Receiver

PROMTOOL = "/usr/bin/promtool"
PAYLOADS = Path(__file__).resolve().parents[1] / "integrations" / "payloads"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(app: Firebell) -> str:
    """The body of `/metrics`, checked to be 200 in exposition format 0.0.4."""
    answer = httpx.get(f"{app.url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


def samples(text: str) -> Samples:
    """Every sample of the exposition, by name and labels, as Prometheus reads them."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    """The sample `name{labels}`; 0 when it is not there."""
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def promtool_problems(text: str) -> str | None:
    """What `promtool check metrics` says about `text` (None: no promtool here)."""
    if not os.path.exists(PROMTOOL) or shutil.which(PROMTOOL) is None:
        if os.environ.get("FIREBELL_REQUIRE_PROMTOOL") == "1":
            pytest.fail(f"{PROMTOOL} is required (FIREBELL_REQUIRE_PROMTOOL=1) but missing")
        return None
    done = subprocess.run(  # noqa: S603 - a fixed path, our own exposition on stdin
        [PROMTOOL, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return f"exit {done.returncode}: {done.stdout}{done.stderr}".strip()


def test_metrics_after_a_day_of_work_count_it_and_pass_promtool(
    fast_config: Config, launch: Callable[[Config], Firebell], fake: FakeSlack, store: Store
) -> None:
    """After a declaration, an escalation, an ack, deliveries and an alert, every SLI
    shows what happened, and promtool finds no error and no lint problem."""
    app = launch(fast_config)
    channel = declare(app, fake)
    fake.wait_for(lambda: at_least(1, fake, channel), timeout=8)
    main = fake.messages_in(channel)[0]
    pressed = app.slack.block_action(
        ACK, None, user_id="U01ML1", channel_id=channel, message_ts=main.ts
    )
    assert pressed.status_code == 200, pressed.text
    alert = httpx.post(
        f"{app.url}/hooks/alertmanager",
        content=(PAYLOADS / "alertmanager_firing.json").read_bytes(),
        headers={"content-type": "application/json", "Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        timeout=15,
    )
    assert alert.status_code == 200, alert.text
    wait_delivered(fake, store)

    text = scrape(app)
    found = samples(text)
    assert value(found, "firebell_database_up") == 1
    assert value(found, "firebell_outbox_pending") == 0
    assert value(found, "firebell_outbox_oldest_age_seconds") == 0
    request = "firebell_slack_request_duration_seconds_count"
    assert value(found, request, kind="command") >= 1
    assert value(found, request, kind="action") >= 1
    ok = value(found, "firebell_slack_api_calls_total", method="chat.postMessage", result="ok")
    assert ok >= 1
    posts = "firebell_slack_api_call_duration_seconds_count"
    assert value(found, posts, method="chat.postMessage") >= ok
    assert value(found, "firebell_deliveries_total", result="sent") >= 1
    assert value(found, "firebell_escalations_total") >= 1
    assert value(found, "firebell_deadline_lateness_seconds_count", kind="escalate") >= 1
    assert total(found, "firebell_alert_notifications_total", source="alertmanager") == 1
    assert value(found, "firebell_incidents", severity="P1", state="acknowledged") == 1
    problems = promtool_problems(text)
    if problems is not None:
        assert problems == "exit 0:", problems


def test_slack_refusals_and_lost_answers_are_counted_by_method(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A 429 is counted as ratelimited and a dropped connection as failed, for the
    method they answered; the rows still go out."""
    fake.script("chat.postMessage", ["429", "timeout"], retry_after=1, delay=0.1)
    answer = firebell.slack.command("declare P2 Slow search area:data", user_id="U0OTHER")
    assert answer.status_code == 200, answer.text
    wait_delivered(fake, store, timeout=10)

    found = samples(scrape(firebell))
    calls = "firebell_slack_api_calls_total"
    assert value(found, calls, method="chat.postMessage", result="ratelimited") == 1
    assert value(found, calls, method="chat.postMessage", result="failed") == 1
    assert value(found, calls, method="chat.postMessage", result="ok") >= 1
    assert value(found, "firebell_deliveries_total", result="retried") >= 2


def test_rollback_webhooks_are_counted_by_result(
    config: Config,
    launch: Callable[[Config], Firebell],
    fake: FakeSlack,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rollback webhook answered 503 then 200 counts one retry and one sent, and the
    confirmation form counts as a view."""
    secret = new_secret()
    monkeypatch.setenv(SECRET_ENV, secret)
    receiver = Receiver(secret).start()
    try:
        hook = RollbackHook(url=receiver.url, secret_env=SECRET_ENV)
        service = config.services[SERVICE].model_copy(update={"rollback": hook})
        app = launch(config.model_copy(update={"services": {**config.services, SERVICE: service}}))
        deployed(store, "v1", "v2")
        declared = scenario.declare(app, fake, store, f"P1 Wrong prices service:{SERVICE}")
        receiver.answers = [503, 200]
        confirm(app, fake, declared)
        submit(app)
        assert ended(fake, store).state == "succeeded"
    finally:
        receiver.stop()

    webhooks = "firebell_webhook_deliveries_total"

    def counted() -> Samples | None:  # the worker counts just after the settling commit
        found = samples(scrape(app))
        return found if value(found, webhooks, kind="rollback", result="sent") else None

    found = fake.wait_for(counted, timeout=5)
    assert value(found, webhooks, kind="rollback", result="retried") == 1
    assert value(found, webhooks, kind="rollback", result="sent") == 1
    assert value(found, "firebell_slack_request_duration_seconds_count", kind="view") >= 1


def test_an_unreachable_database_shows_only_database_up_zero() -> None:
    """Without the database's facts, the gauges are left out and database_up is 0."""
    families = database_families(None)
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [
        ("firebell_database_up", [0])
    ]


def test_the_oldest_waiting_row_is_aged_on_the_databases_clock() -> None:
    """The backlog's age is the database's now minus the oldest undelivered row's."""
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    facts = DatabaseFacts(
        now=now,
        pending=3,
        failed=1,
        oldest_pending=(now - timedelta(seconds=90)).replace(tzinfo=None),  # as SQLite reads it
        undelivered_pages=2,
        incidents=[("P1", "open", 2), ("P3", "resolved", 5)],
    )
    shown = {
        (f.name, tuple(s.labels.items()), s.value)
        for f in database_families(facts)
        for s in f.samples
    }
    assert ("firebell_outbox_oldest_age_seconds", (), 90.0) in shown
    assert ("firebell_outbox_pending", (), 3) in shown
    assert ("firebell_incidents", (("severity", "P3"), ("state", "resolved")), 5) in shown
