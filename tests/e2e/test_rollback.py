"""Rollback end to end: the confirmation, permission, the signed webhook over real HTTP
to a receiver that verifies it with the `standardwebhooks` package, retries, give-up,
duplicate clicks and a restart between confirm and delivery."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from bot.config.model import Config
from bot.config.model import Rollback as RollbackHook
from bot.delivery import retry
from bot.delivery.effects import webhook
from bot.incidents import drills
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from bot.store.tables import AuditRecord, Deploy, Rollback
from bot.webhooks.standard import new_secret
from tests.e2e.scenario import SERVICE, Declared, answer_text, buttons, declare, entries, posts_in
from tests.harness import Firebell
from tests.receiver import Receiver

SECRET_ENV = "FIREBELL_TEST_ROLLBACK_SECRET"
ROLLBACK = "incident_rollback"
FORM = "rollback_confirm"
RESPONSIBLE = "U01ML1"  # a member of the ML team, Responsible for the model area


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver verifying with a fresh secret, which firebell reads from the environment."""
    secret = new_secret()
    monkeypatch.setenv(SECRET_ENV, secret)
    found = Receiver(secret).start()
    yield found
    found.stop()


@pytest.fixture
def rollback_config(config: Config, receiver: Receiver) -> Config:
    """The e2e config with a rollback webhook on the checkout assistant."""
    service = config.services[SERVICE].model_copy(
        update={"rollback": RollbackHook(url=receiver.url, secret_env=SECRET_ENV)}
    )
    return config.model_copy(update={"services": {**config.services, SERVICE: service}})


@pytest.fixture
def app(launch: Callable[[Config], Firebell], rollback_config: Config) -> Firebell:
    """firebell with the rollback webhook configured."""
    return launch(rollback_config)


def deployed(store: Store, *versions: str) -> None:
    """Record deploys of the checkout assistant in production, oldest first."""
    start = datetime.now(UTC) - timedelta(hours=len(versions))

    def add(session: Session) -> None:
        for n, version in enumerate(versions):
            at = start + timedelta(hours=n)
            session.add(
                Deploy(
                    service=SERVICE,
                    environment="production",
                    version=version,
                    at=at,
                    received_at=at,
                    fingerprint=hashlib.sha256(f"{version}{n}".encode()).hexdigest(),
                )
            )

    store.call(add)


def rollbacks(store: Store) -> list[Rollback]:
    """Every rollback row, oldest first."""
    return list(
        store.call(lambda s: list(s.execute(select(Rollback).order_by(col(Rollback.id))).scalars()))
    )


def audits(store: Store, action: str) -> list[AuditRecord]:
    """The audit records of `action`."""
    query = select(AuditRecord).where(col(AuditRecord.action) == action)
    return list(store.call(lambda s: list(s.execute(query).scalars())))


def ended(fake: FakeSlack, store: Store, timeout: float = 10.0) -> Rollback:
    """The single rollback, once it has ended."""

    def done() -> Rollback | None:
        rows = rollbacks(store)
        return rows[-1] if rows and rows[-1].state != "running" else None

    return fake.wait_for(done, timeout=timeout, interval=0.05)


def confirm(app: Firebell, fake: FakeSlack, declared: Declared, user: str = RESPONSIBLE) -> None:
    """Press Rollback on the main message and wait for the confirmation."""
    before = len(fake.opened_views(FORM))
    response = app.slack.block_action(ROLLBACK, None, user_id=user, channel_id=declared.channel)
    assert response.status_code == 200
    fake.wait_for(lambda: len(fake.opened_views(FORM)) > before or None, timeout=5)


def submit(
    app: Firebell, user: str = RESPONSIBLE, reason: str = "wrong prices"
) -> dict[str, object]:
    """Confirm the newest confirmation; the HTTP answer's JSON (empty when accepted)."""
    response = app.slack.view_submission(FORM, {"reason": {"value": reason}}, user_id=user)
    assert response.status_code == 200, response.text
    return response.json() if response.text else {}


@pytest.fixture
def incident(app: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """A P1 on the checkout assistant, with v1 then v2 deployed."""
    deployed(store, "v1", "v2")
    return declare(app, fake, store, f"P1 Wrong prices service:{SERVICE}")


def test_rollback_button_opens_a_confirmation_naming_service_environment_and_versions(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """The main message carries `Rollback`; pressing it opens the modal naming what happens."""
    assert "Rollback" in buttons(incident.main)
    confirm(app, fake, incident)

    view = fake.opened_views(FORM)[-1].view
    text = json.dumps(view["blocks"])
    assert SERVICE in text
    assert "production" in text
    assert "Current version: `v2`" in text
    assert "Target version: `v1`" in text
    assert [b["block_id"] for b in view["blocks"]] == ["plan", "reason"]
    assert view["blocks"][1]["optional"] is True
    assert receiver.requests == []
    assert rollbacks(store) == []


def test_a_service_without_a_previous_version_gets_a_clear_answer_and_nothing_is_sent(
    app: Firebell, fake: FakeSlack, store: Store, receiver: Receiver
) -> None:
    """`/incident rollback` with only one deploy says so; no modal, no row, no request."""
    deployed(store, "v1")
    declared = declare(app, fake, store, f"P2 Wrong prices service:{SERVICE}")

    answer = answer_text(
        app.slack.command("rollback", user_id=RESPONSIBLE, channel_id=declared.channel)
    )

    assert "no previous version" in answer
    assert "Nothing was sent" in answer
    assert fake.opened_views(FORM) == []
    assert rollbacks(store) == []
    assert receiver.requests == []


def test_an_unknown_service_is_refused_with_the_fix(
    app: Firebell, incident: Declared, store: Store
) -> None:
    """`/incident rollback nope` names the services the config knows."""
    answer = answer_text(
        app.slack.command("rollback nope", user_id=RESPONSIBLE, channel_id=incident.channel)
    )
    assert "There is no service `nope`" in answer
    assert SERVICE in answer


def test_someone_outside_the_raci_is_refused_ephemerally_and_the_refusal_is_audited(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """U01PL1 (Platform) may not roll back the model area's service: told who may, audited."""
    answer = answer_text(
        app.slack.command("rollback", user_id="U01PL1", channel_id=incident.channel)
    )

    assert "may roll back" in answer
    assert "<@U01ML1>" in answer
    assert "<@U01MLLEAD>" in answer
    assert fake.opened_views(FORM) == []
    refusals = audits(store, "rollback.refused")
    assert [r.actor for r in refusals] == ["U01PL1"]
    assert refusals[0].incident_id == incident.id
    assert rollbacks(store) == []
    assert receiver.requests == []


def test_a_confirmed_rollback_posts_a_verified_signed_webhook_and_tells_the_channel(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """One signed request with the body's facts; the row, timeline, audit and channel follow."""
    confirm(app, fake, incident)
    assert submit(app) == {}

    row = ended(fake, store)
    assert row.state == "succeeded"
    assert row.status_code == 200
    assert row.duration_ms is not None
    assert [r.verified for r in receiver.requests] == [True]
    got = receiver.requests[0]
    assert got.headers["webhook-id"] == row.webhook_id
    assert row.webhook_id.startswith("msg_")
    assert got.body == {
        "incident": incident.ref,
        "service": SERVICE,
        "environment": "production",
        "from_version": "v2",
        "to_version": "v1",
        "requested_by": RESPONSIBLE,
        "reason": "wrong prices",
        "dry_run": False,
    }
    kinds = [e.kind for e in entries(store, incident.id)]
    assert "rollback_started" in kinds
    assert "rollback_finished" in kinds
    assert audits(store, "incident.rollback_finished")
    told = fake.wait_for(
        lambda: [p for p in posts_in(fake, incident.channel) if "succeeded" in p] or None
    )
    assert "HTTP 200" in told[0]
    assert "rolled &lt;back&gt; &amp; done" in told[0]


def test_a_5xx_is_retried_with_the_same_webhook_id_until_it_succeeds(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """503 then 200: two verified requests, one webhook-id, the rollback succeeded."""
    receiver.answers = [503, 200]
    confirm(app, fake, incident)
    submit(app)

    row = ended(fake, store)
    assert row.state == "succeeded"
    assert len(receiver.requests) == 2
    assert {r.headers["webhook-id"] for r in receiver.requests} == {row.webhook_id}
    assert all(r.verified for r in receiver.requests)


def test_a_receiver_slower_than_the_timeout_is_tried_again_with_the_same_webhook_id(
    *,
    app: Firebell,
    fake: FakeSlack,
    store: Store,
    incident: Declared,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An answer later than the total timeout counts as none: the next try succeeds."""
    monkeypatch.setattr(webhook, "TOTAL_TIMEOUT", 0.5)
    receiver.answers = [("slow", 2.0, 200), 200]
    confirm(app, fake, incident)
    submit(app)

    row = ended(fake, store, timeout=20)
    assert row.state == "succeeded"
    assert len(receiver.requests) == 2
    assert {r.headers["webhook-id"] for r in receiver.requests} == {row.webhook_id}


def test_a_4xx_is_final(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """422 fails the rollback at once, without a retry, and the channel is told."""
    receiver.answers = [422]
    confirm(app, fake, incident)
    submit(app)

    row = ended(fake, store)
    assert row.state == "failed"
    assert row.status_code == 422
    assert row.message == "nope <b>"
    assert len(receiver.requests) == 1
    told = fake.wait_for(
        lambda: [p for p in posts_in(fake, incident.channel) if "failed" in p] or None
    )
    assert "HTTP 422" in told[0]
    assert "nope &lt;b&gt;" in told[0]


def test_a_receiver_down_until_the_outbox_gives_up_fails_the_rollback_and_tells_the_channel(
    *,
    app: Firebell,
    fake: FakeSlack,
    store: Store,
    incident: Declared,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every attempt dropped: after the outbox's attempts the rollback is failed and told."""
    monkeypatch.setattr(retry, "GIVE_UP_AFTER", timedelta(0))
    receiver.answers = ["drop"]
    confirm(app, fake, incident)
    submit(app)

    row = ended(fake, store, timeout=20)
    assert row.state == "failed"
    assert "gave up" in row.message
    assert len(receiver.requests) == retry.MAX_ATTEMPTS
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    fake.wait_for(lambda: [p for p in posts_in(fake, incident.channel) if "failed" in p] or None)


def test_a_second_confirmation_while_one_is_running_starts_nothing(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """The receiver holds the first; the second click answers "already running"."""
    receiver.answers = ["block"]
    confirm(app, fake, incident)
    submit(app)
    fake.wait_for(lambda: receiver.requests or None)
    confirm(app, fake, incident, user="U01MLLEAD")

    answer = submit(app, user="U01MLLEAD")

    assert answer["response_action"] == "errors"
    assert "already running" in json.dumps(answer)
    assert len(rollbacks(store)) == 1
    receiver.release()
    assert ended(fake, store).state == "succeeded"
    assert len(receiver.requests) == 1


def test_a_succeeded_rollback_whose_deploy_is_not_reported_yet_blocks_a_second_one(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """Answered 2xx, its deploy not reported: the versions still read v2 to v1, so a
    second confirmation (from another incident too) would send the same rollback."""
    confirm(app, fake, incident)
    submit(app)
    assert ended(fake, store).state == "succeeded"
    other = declare(app, fake, store, f"P2 Still wrong prices service:{SERVICE}")
    confirm(app, fake, other, user="U01MLLEAD")

    answer = submit(app, user="U01MLLEAD")

    assert "already running" in json.dumps(answer)
    assert len(rollbacks(store)) == 1
    assert len(receiver.requests) == 1


def test_the_lead_of_another_incident_may_not_roll_back_this_service(
    app: Firebell, fake: FakeSlack, store: Store, incident: Declared, receiver: Receiver
) -> None:
    """Anyone may make themselves lead of some incident: that gives them its own service
    only, never every service with a rollback."""
    other = declare(app, fake, store, "P2 Disk filling up area:infra")
    app.slack.command("lead <@U01PL1>", user_id="U01PL1", channel_id=other.channel)

    answer = answer_text(
        app.slack.command(f"rollback {SERVICE}", user_id="U01PL1", channel_id=other.channel)
    )

    assert "may roll back" in answer
    assert fake.opened_views(FORM) == []
    assert [r.actor for r in audits(store, "rollback.refused")] == ["U01PL1"]
    assert receiver.requests == []


def test_a_rollback_not_taken_within_its_patience_is_given_up_not_sent(
    *,
    app: Firebell,
    fake: FakeSlack,
    store: Store,
    incident: Declared,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A click older than the patience (ten minutes; here none) is never sent late."""
    monkeypatch.setattr(webhook, "PATIENCE", timedelta(0))
    confirm(app, fake, incident)
    submit(app)

    row = ended(fake, store)

    assert row.state == "failed"
    assert "not sent" in row.message
    assert receiver.requests == []


def test_a_rollback_confirmed_before_a_stop_is_delivered_after_the_restart_with_its_id(
    *,
    launch: Callable[[Config], Firebell],
    rollback_config: Config,
    app: Firebell,
    fake: FakeSlack,
    store: Store,
    incident: Declared,
    receiver: Receiver,
) -> None:
    """Stopped while the receiver holds the request: the row survives, and the restarted
    firebell delivers it with the same webhook-id; it ends once."""
    receiver.answers = ["block", 200]
    confirm(app, fake, incident)
    submit(app)
    fake.wait_for(lambda: receiver.requests or None)
    app.stop()
    assert rollbacks(store)[0].state == "running"

    receiver.release()
    launch(rollback_config)

    row = ended(fake, store)
    assert row.state == "succeeded"
    assert {r.headers["webhook-id"] for r in receiver.requests} == {row.webhook_id}
    finished = [e for e in entries(store, incident.id) if e.kind == "rollback_finished"]
    assert len(finished) == 1


def test_a_drill_is_sent_as_a_dry_run_at_start_up_and_reported_to_the_responsible_team(
    *,
    launch: Callable[[Config], Firebell],
    rollback_config: Config,
    fake: FakeSlack,
    store: Store,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`drill_every` on a never-drilled service: a verified dry run goes out soon after
    start-up (here at once), and the ML team (no channel of its own) gets the outcome by
    DM."""
    monkeypatch.setattr(drills, "FIRST_DRILL_AFTER", timedelta(0))
    deployed(store, "v1", "v2")
    service = rollback_config.services[SERVICE]
    assert service.rollback is not None
    hook = service.rollback.model_copy(update={"drill_every": timedelta(hours=1)})
    drilling = rollback_config.model_copy(
        update={
            "services": {
                **rollback_config.services,
                SERVICE: service.model_copy(update={"rollback": hook}),
            }
        }
    )
    launch(drilling)

    row = ended(fake, store)
    assert row.dry_run is True
    assert row.incident_id is None
    assert row.state == "succeeded"
    assert [r.body["dry_run"] for r in receiver.requests] == [True]
    assert receiver.requests[0].verified
    assert receiver.requests[0].body["incident"] is None
    for member in ("U01ML1", "U01ML2"):
        told = fake.wait_for(partial(_drill_dms, fake, member))
        assert "succeeded" in told[0].text
        assert "HTTP 200" in told[0].text
    assert audits(store, "rollback.finished")


def _drill_dms(fake: FakeSlack, user: str) -> list[Message] | None:
    """The drill reports `user` got by DM, if any yet."""
    return [d for d in fake.dms_to(user) if "drill" in d.text] or None
