"""Incidents from alerts end to end: channel, main message with its alerts, pages,
`/incident alerts`, and monitoring text that cannot notify anyone.

The notifications are stored and ingested the way the HTTP hooks do (one transaction);
everything after that is firebell's own delivery to the fake Slack over real HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config.model import Config
from bot.integrations.model import AlertFacts, Notification
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import AlertNotification
from tests.e2e.scenario import answer_text, main_message, wait_declared, wait_delivered
from tests.harness import Firebell
from tests.usecases.steps import ingest_stored

STARTS = datetime(2026, 3, 2, 9, 55, tzinfo=UTC)
SUMMARY = "<!channel> checkout eval score dropped @here"


def _alert(fingerprint: str, status: str = "firing", summary: str = SUMMARY) -> AlertFacts:
    return AlertFacts(
        fingerprint=fingerprint,
        status="firing" if status == "firing" else "resolved",
        labels={
            "alertname": f"ModelEvalScoreDrop{fingerprint}",
            "service": "checkout-assistant",
            "severity": "critical",
        },
        annotations={"summary": summary},
        starts_at=STARTS,
        ends_at=None if status == "firing" else STARTS + timedelta(minutes=5),
        generator_url="https://prometheus.example.com/graph?g0.expr=eval&g0.tab=1",
    )


def _deliver(store: Store, config: Config, *alerts: AlertFacts) -> AlertNotification:
    notification = Notification(
        source="alertmanager",
        group_key='{}:{alertname="ModelEvalScoreDrop"}',
        status="firing",
        alerts=alerts,
    )

    return ingest_stored(store, config, notification)


def test_an_alert_incident_has_its_channel_main_message_with_alerts_and_pages(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """The channel, the alert list on the main message, the pages; updated in place."""
    row = _deliver(store, config, _alert("1"))
    assert row.outcome == "opened"
    declared = wait_declared(fake, store, 1)
    shown = json.dumps(declared.main.blocks)
    assert "ModelEvalScoreDrop1" in shown
    assert "1 alert firing" in shown
    assert "https://prometheus.example.com/graph?g0.expr=eval&amp;g0.tab=1|" in shown
    assert "model-quality-regression" in shown or "Model quality regression" in shown
    wait_delivered(fake, store)
    assert fake.dms_to("U01MLLEAD")
    assert fake.dms_to("U01ML1") or fake.dms_to("U01ML2")  # the ML on-call of the week
    _deliver(store, config, _alert("1", "resolved"), _alert("2"))
    wait_delivered(fake, store)
    main = main_message(fake, declared.channel)
    assert main is not None
    assert "1 of 2 alerts resolved" in json.dumps(main.blocks)


def test_incident_alerts_lists_the_alerts_of_the_channel_incident(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """`/incident alerts` answers with each alert, its status and labels."""
    _deliver(store, config, _alert("1"), _alert("2"))
    declared = wait_declared(fake, store, 1)
    response = firebell.slack.command("alerts", user_id="U01ML1", channel_id=declared.channel)
    answer = answer_text(response)
    assert "2 alerts firing" in answer
    blocks = json.dumps(response.json()["blocks"])
    assert "ModelEvalScoreDrop2" in blocks
    assert "service=checkout-assistant" in blocks
    assert "1 notification received" in blocks


def _mrkdwn(value: Any) -> list[str]:
    """Every mrkdwn text in blocks (plain text, as in a header, cannot mention)."""
    if isinstance(value, list):
        return [t for item in value for t in _mrkdwn(item)]
    if not isinstance(value, dict):
        return []
    found = [str(value["text"])] if value.get("type") == "mrkdwn" else []
    return found + [t for item in value.values() for t in _mrkdwn(item)]


def test_a_mention_in_a_summary_annotation_notifies_nobody(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """`<!channel>` and `@here` from an alert reach Slack's mrkdwn escaped, everywhere."""
    _deliver(store, config, _alert("1"))
    declared = wait_declared(fake, store, 1)
    wait_delivered(fake, store)
    response = firebell.slack.command("alerts", user_id="U01ML1", channel_id=declared.channel)
    said = [response.json()["text"], *_mrkdwn(response.json()["blocks"])]
    messages = [*fake.messages_in(declared.channel), *fake.messages_in("C0ANNOUNCE")]
    for user in ("U01ML1", "U01ML2", "U01MLLEAD"):
        messages += fake.dms_to(user)
    for message in messages:
        said += [message.text, *_mrkdwn(message.blocks)]
    for text in said:
        assert "<!channel>" not in text
        assert "@here" not in text
    assert any("&lt;!channel&gt;" in text for text in said)
