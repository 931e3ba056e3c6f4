"""PII masking end to end: what users, pipelines and products send through signed HTTP
is stored, posted and logged masked; version strings, datetimes and the organisation's
own addresses are kept."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from bot.config.governance import Pii
from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store, make_engine
from bot.store.tables import (
    Alert,
    AlertNotification,
    AuditRecord,
    Deploy,
    FailureCase,
    Incident,
    OutboxMessage,
    TimelineEntry,
)
from tests.conftest import USERS, emptied
from tests.e2e.scenario import (
    SERVICE,
    answer_text,
    channel_of,
    declare,
    entries,
    incident,
    shown_text,
    wait_delivered,
)
from tests.harness import SIGNING_SECRET, Firebell, post_hook, running
from tests.serving import ROOT, e2e_env, run_serve, serve_env, start_serve

EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"  # a test Visa number: passes Luhn
VERSION = "v1.20.300.4000"
PHONE = "+1 415-555-2671"
TITLE = f"Refund fails for {EMAIL} card {CARD} since {VERSION}"
MASKED_TITLE = f"Refund fails for [email] card [card] since {VERSION}"
RAW = (EMAIL, CARD, "4111111111111111", "415-555-2671", "555-2671")


def everything_stored(store: Store) -> str:
    """Every row a user's, a product's or a monitor's words may reach, as one text."""

    def dump(session: Session) -> str:
        rows: list[SQLModel] = []
        tables = (
            Incident,
            TimelineEntry,
            OutboxMessage,
            FailureCase,
            AuditRecord,
            AlertNotification,
            Alert,
        )
        for table in tables:
            rows += list(session.execute(select(table)).scalars())
        return "\n".join(json.dumps(row.model_dump(mode="json")) for row in rows)

    return store.call(dump)


def everything_posted(fake: FakeSlack) -> str:
    """Every channel's name and every message the fake Slack holds, as one text."""
    texts = [channel.name for channel in fake.channels.values()]
    texts += [shown_text(m) for channel in list(fake.channels) for m in fake.messages_in(channel)]
    return "\n".join(texts)


def assert_no_raw(text: str) -> None:
    for raw in RAW:
        assert raw not in text, raw


def test_a_declared_title_is_stored_and_posted_masked_with_its_version_kept(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """An e-mail address and a card number in a title are masked in the incident, its
    timeline, its outbox rows, its channel's name and every message; the version stays."""
    declared = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
    wait_delivered(fake, store)

    incident = store.call(lambda s: s.get(Incident, declared.id))
    assert incident is not None
    assert incident.title == MASKED_TITLE
    [opened] = [e for e in entries(store, declared.id) if e.kind == "declared"]
    assert opened.data["title"] == MASKED_TITLE
    name = fake.channels[declared.channel].name
    assert re.fullmatch(r"inc-1-refund-fails-for-email-card-card-since-v1-20-300-4000", name)
    assert "[email] card [card] since v1.20.300.4000" in shown_text(declared.main)
    assert_no_raw(everything_stored(store))
    assert_no_raw(everything_posted(fake))


def test_notes_statuses_follow_ups_and_summaries_are_masked(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """Every text typed in the incident channel is stored masked: a note, a status
    update, a follow-up and the resolve summary."""
    declared = declare(firebell, fake, store, f"P2 Slow answers service:{SERVICE}")
    for command in (
        f"note customer {EMAIL} called from {PHONE}",
        f"status refunds to {CARD} are paused",
        f"followup call back {PHONE}",
        f"resolve refunded {EMAIL}, deployed {VERSION}",
    ):
        answer_text(firebell.slack.command(command, channel_id=declared.channel))
    wait_delivered(fake, store)

    said = {e.kind: e.data for e in entries(store, declared.id)}
    assert said["note"]["text"] == "customer [email] called from [phone]"
    assert said["status"]["text"] == "refunds to [card] are paused"
    assert said["resolved"]["summary"] == f"refunded [email], deployed {VERSION}"
    assert_no_raw(everything_stored(store))
    assert_no_raw(everything_posted(fake))


def test_a_status_update_keeps_its_datetime_version_and_own_hosts(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A status update naming when, which deploy and which internal host is stored and
    posted as typed; only the public address in it is masked."""
    declared = declare(firebell, fake, store, f"P2 Checkout errors service:{SERVICE}")
    kept = "since 2026-12-07 23:45 Deploy 2.14.0.1 broke checkout on 10.0.0.1:8080"
    answer_text(
        firebell.slack.command(
            f"status {kept}, calls from 203.0.113.7", channel_id=declared.channel
        )
    )
    wait_delivered(fake, store)

    [status] = [e for e in entries(store, declared.id) if e.kind == "status"]
    assert status.data["text"] == f"{kept}, calls from [ip]"
    assert f"{kept}, calls from [ip]" in everything_posted(fake)
    assert "203.0.113.7" not in everything_stored(store) + everything_posted(fake)


def test_a_failure_case_is_stored_with_its_phone_number_masked(
    firebell: Firebell, store: Store
) -> None:
    """The feedback hook keeps a case's text with the phone number masked."""
    case = {"service": SERVICE, "kind": "wrong_answer", "ref": "conv-7",
            "text": f"told {PHONE} the {VERSION} price"}  # fmt: skip
    answer = post_hook(firebell, "feedback", case)
    assert answer.status_code == 200, answer.text

    [kept] = store.call(lambda s: list(s.execute(select(FailureCase)).scalars()))
    assert kept.text == f"told [phone] the {VERSION} price"


def test_a_deploy_report_keeps_its_version_and_masks_its_actor(
    firebell: Firebell, store: Store
) -> None:
    """A pipeline naming its actor by e-mail address: the deploy is kept with the
    actor masked and the version, which rollbacks match on, as it was sent."""
    report = {"service": SERVICE, "version": VERSION, "actor": EMAIL}
    answer = post_hook(firebell, "deploys", report)
    assert answer.status_code == 201, answer.text

    [deploy] = store.call(lambda s: list(s.execute(select(Deploy)).scalars()))
    assert (deploy.version, deploy.actor) == (VERSION, "[email]")


def alertmanager_body(summary: str) -> dict[str, Any]:
    """An Alertmanager (version 4) notification of one firing alert of the service."""
    labels = {
        "alertname": "RefundErrors",
        "service": SERVICE,
        "severity": "critical",
        "instance": "203.0.113.40:9100",
        "node": "10.20.30.40:9100",
    }
    alert = {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": summary},
        "startsAt": "2026-12-07T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com:9090/graph",
        "fingerprint": "f1",
    }
    return {
        "receiver": "firebell",
        "status": "firing",
        "alerts": [alert],
        "groupLabels": {"alertname": "RefundErrors"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": summary},
        "externalURL": "http://am.example.com",
        "version": "4",
        "groupKey": '{}:{alertname="RefundErrors"}',
        "truncatedAlerts": 0,
    }


def test_an_alerts_annotations_are_kept_and_posted_masked(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A monitoring annotation naming a customer opens an incident whose title, stored
    alert and kept notification body carry the masked text, as does every post."""
    summary = f"refunds failing for {EMAIL} on {VERSION}"
    answer = post_hook(firebell, "alertmanager", alertmanager_body(summary))
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "opened"
    wait_delivered(fake, store)

    [alert] = store.call(lambda s: list(s.execute(select(Alert)).scalars()))
    assert alert.annotations["summary"] == f"refunds failing for [email] on {VERSION}"
    assert alert.labels["instance"] == "[ip]:9100"
    assert alert.labels["node"] == "10.20.30.40:9100"
    [kept] = store.call(lambda s: list(s.execute(select(AlertNotification)).scalars()))
    assert kept.body["alerts"][0]["annotations"]["summary"] == alert.annotations["summary"]
    assert "203.0.113.40" not in everything_stored(store) + everything_posted(fake)
    assert_no_raw(everything_stored(store))
    assert_no_raw(everything_posted(fake))


def test_a_pinned_message_is_kept_masked(firebell: Firebell, fake: FakeSlack, store: Store) -> None:
    """The text a :pushpin: reads from Slack is masked before it reaches the timeline."""
    declared = declare(firebell, fake, store, f"P2 Slow answers service:{SERVICE}")
    said = fake.post_as("U01ML1", declared.channel, f"ring {PHONE} or mail {EMAIL}")
    response = firebell.slack.reaction(
        "pushpin", user_id="U01ML2", channel_id=declared.channel, ts=said.ts
    )
    assert response.status_code == 200, response.text
    wait_delivered(fake, store)

    [pin] = [e for e in entries(store, declared.id) if e.kind == "pinned"]
    assert pin.data["text"] == "ring [phone] or mail [email]"


@pytest.fixture
def hashing(monkeypatch: pytest.MonkeyPatch, config: Config) -> Config:
    """The e2e config in hash mode, its key in the environment."""
    monkeypatch.setenv("FIREBELL_TEST_PII_KEY", "whsec_a-test-key-of-enough-characters")
    pii = Pii(mode="hash", hash_key_env="FIREBELL_TEST_PII_KEY")
    return config.model_copy(update={"pii": pii})


def test_hash_mode_stores_one_marker_per_value(
    hashing: Config, database_url: str, fake: FakeSlack, store: Store
) -> None:
    """In hash mode two incidents about one address carry the same marker, and the
    address itself is stored nowhere."""
    with running(database_url, hashing, fake) as app:
        first = declare(app, fake, store, f"P2 {EMAIL} cannot pay service:{SERVICE}")
        again = declare(app, fake, store, f"P2 {EMAIL.upper()} again service:{SERVICE}")
        wait_delivered(fake, store)
    titles = [incident(store, declared.number) for declared in (first, again)]
    markers = [re.findall(r"\[email:[0-9a-f]{8}\]", t.title if t else "") for t in titles]
    assert markers[0]
    assert markers[0] == markers[1]
    assert_no_raw(everything_stored(store))


# --- logs: a real `firebell serve`, at DEBUG so the libraries' lines are in too ---------


@pytest.fixture
def debug_log(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """`firebell serve` at LOG_LEVEL=DEBUG through a journey that puts the users' words
    into log lines (the Slack SDK logs every request and answer at DEBUG, the text of a
    message read for a pin among them): what it logged, and the store."""
    fake = FakeSlack().start()
    store = emptied(Store(make_engine(database_url)))
    for user in USERS:
        fake.add_user(user, user.lower())
    path = tmp_path / "serve.log"
    env = e2e_env(fake, database_url, LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    try:
        with path.open("w") as output:
            process, url = start_serve(env, cwd=tmp_path, output=output)
            try:
                with SlackRequests(url, SIGNING_SECRET, fake=fake) as slack:
                    answer = answer_text(slack.command(f"declare P1 {TITLE} service:{SERVICE}"))
                    number = int(re.findall(r"INC-(\d+)", answer)[0])
                    channel = fake.wait_for(lambda: channel_of(store, number), timeout=10)
                    found = incident(store, number)
                    assert found is not None
                    assert found.id is not None
                    incident_id = found.id
                    said = fake.post_as("U01ML1", channel, f"ring {PHONE} or mail {EMAIL}")
                    reacted = slack.reaction("pushpin", user_id="U01ML2", channel_id=channel,
                                             ts=said.ts)  # fmt: skip
                    assert reacted.status_code == 200, reacted.text
                    fake.wait_for(
                        lambda: [e for e in entries(store, incident_id) if e.kind == "pinned"],
                        timeout=10,
                    )
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)
        yield path.read_text(), store
    finally:
        store.dispose()
        fake.stop()


def test_every_log_line_is_masked_even_the_libraries(debug_log: tuple[str, Store]) -> None:
    """The title (in the SDK's request lines) and the pinned message (in its answer
    lines, as Slack sent it) are logged masked; no raw value is in any line."""
    text, _ = debug_log
    lines = [json.loads(line) for line in text.splitlines()]
    assert any(MASKED_TITLE in line["message"] for line in lines)
    read = [line for line in lines if "conversations.history" in line["message"]]
    assert read, "the pin's read of the message is logged at DEBUG"
    assert any("ring [phone] or mail [email]" in line["message"] for line in lines)
    assert_no_raw(text)


def test_serve_refuses_hash_mode_without_its_key(database_url: str, tmp_path: Path) -> None:
    """`mode: hash` with its variable unset: `firebell serve` starts nothing and says
    what to set (status 2), rather than hashing with a key made up for this run."""
    config = tmp_path / "firebell.yaml"
    e2e = (ROOT / "tests" / "configs" / "e2e.yaml").read_text()
    config.write_text(e2e + "pii: {mode: hash, hash_key_env: FIREBELL_TEST_PII_KEY}\n")
    with FakeSlack() as fake:
        env = serve_env(
            fake,
            signing_secret=SIGNING_SECRET,
            database_url=database_url,
            config=config,
            runbooks=ROOT / "runbooks",
        )
        env.pop("FIREBELL_TEST_PII_KEY", None)
        done = run_serve(env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "FIREBELL_TEST_PII_KEY, is not set" in done.stderr
    assert "Traceback" not in done.stderr
