"""Permissions end to end: resolving a P1 (command and button), lowering a P0 or a P1
and rolling back are refused to whoever the `permissions:` block leaves out, with an
ephemeral answer naming who may and a `refused` audit record; allowed to the rest. An
incident lowered from P1/P0 still needs `resolve_p1`/`resolve_p0` (its peak); a refusal
whose audit record fails is still answered; and a refused and an allowed resolve at
once end in one resolve and one refusal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select, text
from sqlmodel import Session, col

from bot import runtime
from bot.config.model import Config
from bot.config.model import Rollback as RollbackHook
from bot.incidents.permitted import NotPermittedError
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import AuditRecord
from tests.e2e.scenario import (
    RESOLVE,
    SERVICE,
    TITLE,
    Declared,
    answer_text,
    declare,
    entries,
    incident,
    wait_delivered,
)
from tests.harness import Firebell

BYSTANDER = "U01PR1"  # Product: informed of the model area, answerable for nothing
ACCOUNTABLE = "U01MLLEAD"
RESPONSIBLE = "U01ML1"
ROLLBACK = "incident_rollback"
FORM = "rollback_confirm"


def records(store: Store, action: str) -> list[AuditRecord]:
    """The audit records of `action`, oldest first."""
    query = (
        select(AuditRecord).where(col(AuditRecord.action) == action).order_by(col(AuditRecord.id))
    )
    return list(store.call(lambda s: list(s.execute(query).scalars())))


def declared_p(firebell: Firebell, fake: FakeSlack, store: Store, severity: str) -> Declared:
    """A `severity` incident on the checkout assistant, every message delivered."""
    found = declare(firebell, fake, store, f"{severity} {TITLE} service:{SERVICE}")
    wait_delivered(fake, store)
    return found


def test_a_bystander_resolving_a_p1_is_refused_naming_who_may_and_audited(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """The answer names the rule, the people and whom to ask; the incident stays open."""
    declared = declared_p(firebell, fake, store, "P1")

    answer = answer_text(
        firebell.slack.command("resolve done", user_id=BYSTANDER, channel_id=declared.channel)
    )

    assert ":no_entry: Only the Responsible team, the Accountable person or the incident lead" in (
        answer
    )
    assert "`permissions.resolve_p1`" in answer
    assert "<@U01ML1>, <@U01ML2>, <@U01MLLEAD> (teams: ML Team)" in answer
    assert "Ask one of them to resolve it" in answer
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.state == "open"
    refused = records(store, "incident.resolved")
    assert [(r.actor, r.outcome, r.object) for r in refused] == [
        (BYSTANDER, "refused", declared.ref)
    ]
    assert refused[0].incident_id == declared.id
    assert refused[0].detail["permission"] == "resolve_p1"
    assert refused[0].detail["who_may"] == ["U01ML1", "U01ML2", "U01MLLEAD"]


def test_the_accountable_person_resolves_a_p1(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """U01MLLEAD may: the incident is resolved, the audit record says ok."""
    declared = declared_p(firebell, fake, store, "P1")

    answer = answer_text(
        firebell.slack.command("resolve fixed", user_id=ACCOUNTABLE, channel_id=declared.channel)
    )

    assert "resolved" in answer
    stored = incident(store, declared.number)
    assert stored is not None
    assert (stored.state, stored.resolved_by) == ("resolved", ACCOUNTABLE)
    assert [r.outcome for r in records(store, "incident.resolved")] == ["ok"]


def test_anyone_may_resolve_a_p2(firebell: Firebell, fake: FakeSlack, store: Store) -> None:
    """No permission guards a P2: the bystander resolves it."""
    declared = declared_p(firebell, fake, store, "P2")

    answer_text(firebell.slack.command("resolve", user_id=BYSTANDER, channel_id=declared.channel))

    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.resolved_by == BYSTANDER


def test_the_resolve_button_is_refused_to_a_bystander_too(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """The Resolve button on the main message answers the same refusal ephemerally."""
    declared = declared_p(firebell, fake, store, "P1")
    url = fake.response_url()

    response = firebell.slack.block_action(
        RESOLVE, None, user_id=BYSTANDER, channel_id=declared.channel, response_url=url
    )

    assert response.status_code == 200
    answer = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert "`permissions.resolve_p1`" in answer[0].text
    assert "<@U01MLLEAD>" in answer[0].text
    assert [r.outcome for r in records(store, "incident.resolved")] == ["refused"]
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.state == "open"


def test_lowering_a_p0_is_refused_to_the_consulted_and_allowed_to_the_on_call_team(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """Data (consulted, paged for a P0) may not lower it; an ML member may; raising a
    P1 to P0 needs nobody's permission."""
    declared = declared_p(firebell, fake, store, "P0")

    refused = answer_text(
        firebell.slack.command("sev P2", user_id="U01DA1", channel_id=declared.channel)
    )
    assert "may lower the severity of a P0 incident (`permissions.lower_p0_severity`)" in refused
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.severity == "P0"
    assert [r.outcome for r in records(store, "incident.severity_changed")] == ["refused"]

    allowed = answer_text(
        firebell.slack.command("sev P2", user_id="U01ML2", channel_id=declared.channel)
    )
    assert allowed == f"{declared.ref} is now P2."
    raised = answer_text(
        firebell.slack.command("sev P0", user_id=BYSTANDER, channel_id=declared.channel)
    )
    assert raised == f"{declared.ref} is now P0."
    outcomes = [r.outcome for r in records(store, "incident.severity_changed")]
    assert outcomes == ["refused", "ok", "ok"]


def test_a_permissions_block_narrows_who_may_to_a_team_or_a_person(
    launch: Callable[[Config], Firebell], config: Config, fake: FakeSlack, store: Store
) -> None:
    """`resolve_p1: [platform, U0OTHER]`: the Accountable is refused, Platform may."""
    permissions = config.permissions.model_copy(update={"resolve_p1": ["platform", "U0OTHER"]})
    app = launch(config.model_copy(update={"permissions": permissions}))
    declared = declared_p(app, fake, store, "P1")

    refused = answer_text(
        app.slack.command("resolve", user_id=ACCOUNTABLE, channel_id=declared.channel)
    )
    assert "Only Platform Team or <@U0OTHER> may resolve a P1 incident" in refused
    assert "<@U01PL1>, <@U0OTHER> (teams: Platform Team)" in refused

    answer_text(app.slack.command("resolve", user_id="U01PL1", channel_id=declared.channel))
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.resolved_by == "U01PL1"


def test_lowering_a_p1_is_refused_to_a_bystander_and_allowed_to_the_accountable(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`/incident sev P2` on a P1 needs `resolve_p1`: the bystander is told who may and
    how to lower it, the incident stays P1; the Accountable lowers it."""
    declared = declared_p(firebell, fake, store, "P1")

    refused = answer_text(
        firebell.slack.command("sev P2", user_id=BYSTANDER, channel_id=declared.channel)
    )
    assert "may lower the severity of a P1 incident (`permissions.resolve_p1`)" in refused
    assert "<@U01ML1>, <@U01ML2>, <@U01MLLEAD> (teams: ML Team)" in refused
    assert "Ask one of them to run `/incident sev <P2-P3>`" in refused
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.severity == "P1"

    allowed = answer_text(
        firebell.slack.command("sev P2", user_id=ACCOUNTABLE, channel_id=declared.channel)
    )
    assert allowed == f"{declared.ref} is now P2."
    changed = [(r.actor, r.outcome) for r in records(store, "incident.severity_changed")]
    assert changed == [(BYSTANDER, "refused"), (ACCOUNTABLE, "ok")]


def test_a_p1_lowered_to_p2_still_needs_resolve_p1_to_resolve(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """Its peak guards it: after the Accountable lowers it, the bystander's resolve of
    the now-P2 is refused (saying it was P1) and the Accountable's goes through."""
    declared = declared_p(firebell, fake, store, "P1")
    lowered = firebell.slack.command("sev P2", user_id=ACCOUNTABLE, channel_id=declared.channel)
    assert answer_text(lowered) == f"{declared.ref} is now P2."

    refused = answer_text(
        firebell.slack.command("resolve", user_id=BYSTANDER, channel_id=declared.channel)
    )
    assert "may resolve an incident that was ever P1, as this P2 was" in refused
    assert "`permissions.resolve_p1`" in refused
    stored = incident(store, declared.number)
    assert stored is not None
    assert (stored.state, stored.severity) == ("open", "P2")
    [record] = records(store, "incident.resolved")
    assert (record.actor, record.outcome, record.detail["permission"]) == (
        BYSTANDER,
        "refused",
        "resolve_p1",
    )

    answer_text(firebell.slack.command("resolve", user_id=ACCOUNTABLE, channel_id=declared.channel))
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.resolved_by == ACCOUNTABLE


def test_a_p0_lowered_to_p2_still_needs_resolve_p0_to_resolve(
    launch: Callable[[Config], Firebell], config: Config, fake: FakeSlack, store: Store
) -> None:
    """`resolve_p0: [accountable]`: an ML member may lower the P0 to P2 but not resolve it."""
    permissions = config.permissions.model_copy(update={"resolve_p0": ["accountable"]})
    app = launch(config.model_copy(update={"permissions": permissions}))
    declared = declared_p(app, fake, store, "P0")
    lowered = app.slack.command("sev P2", user_id=RESPONSIBLE, channel_id=declared.channel)
    assert answer_text(lowered) == f"{declared.ref} is now P2."

    refused = answer_text(
        app.slack.command("resolve", user_id=RESPONSIBLE, channel_id=declared.channel)
    )
    assert "Only the Accountable person may resolve an incident that was ever P0" in refused
    assert "`permissions.resolve_p0`" in refused
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.state == "open"


def test_a_p3_never_raised_resolves_freely(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """No peak above P3, no guard: the bystander resolves it, audited as ok."""
    declared = declared_p(firebell, fake, store, "P3")

    answer_text(firebell.slack.command("resolve", user_id=BYSTANDER, channel_id=declared.channel))

    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.resolved_by == BYSTANDER
    assert [r.outcome for r in records(store, "incident.resolved")] == ["ok"]


def test_a_refusal_is_still_answered_when_its_audit_record_cannot_be_written(
    firebell: Firebell,
    fake: FakeSlack,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The refusal's own transaction fails with a database error: the user still reads
    who may, and the failure is logged without their words."""
    declared = declared_p(firebell, fake, store, "P1")

    def failing(session: Session, err: NotPermittedError) -> None:
        session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(runtime, "record_refusal", failing)
    with caplog.at_level(logging.ERROR, logger="bot.runtime"):
        answer = answer_text(
            firebell.slack.command(
                "resolve secret words", user_id=BYSTANDER, channel_id=declared.channel
            )
        )

    assert "`permissions.resolve_p1`" in answer
    assert "<@U01MLLEAD>" in answer
    [logged] = [r for r in caplog.records if r.name == "bot.runtime"]
    assert f"incident.resolved on {declared.ref} to {BYSTANDER}" in logged.getMessage()
    assert "secret words" not in logged.getMessage()
    assert records(store, "incident.resolved") == []
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.state == "open"


@pytest.fixture
def rollback_app(launch: Callable[[Config], Firebell], config: Config) -> Firebell:
    """firebell with a rollback webhook on the checkout assistant, and only its
    Accountable allowed to roll back (`permissions.rollback: [accountable]`)."""
    service = config.services[SERVICE].model_copy(
        update={"rollback": RollbackHook(url="http://127.0.0.1:9/never-called")}
    )
    permissions = config.permissions.model_copy(update={"rollback": ["accountable"]})
    return launch(
        config.model_copy(
            update={"services": {**config.services, SERVICE: service}, "permissions": permissions}
        )
    )


def test_rollback_by_the_responsible_team_is_refused_when_only_the_accountable_may(
    rollback_app: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`/incident rollback` and the Rollback button: refused, no confirmation, audited."""
    declared = declared_p(rollback_app, fake, store, "P1")

    answer = answer_text(
        rollback_app.slack.command("rollback", user_id=RESPONSIBLE, channel_id=declared.channel)
    )
    assert "Only the Accountable person may roll back a service (`permissions.rollback`)" in (
        answer
    )
    assert "For this incident that is <@U01MLLEAD>." in answer
    url = fake.response_url()
    pressed = rollback_app.slack.block_action(
        ROLLBACK, None, user_id=RESPONSIBLE, channel_id=declared.channel, response_url=url
    )
    assert pressed.status_code == 200
    told = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert "`permissions.rollback`" in told[0].text

    assert fake.opened_views(FORM) == []
    refused = records(store, "rollback.refused")
    assert [(r.actor, r.outcome) for r in refused] == [(RESPONSIBLE, "refused")] * 2


def test_a_refused_and_an_allowed_resolve_at_once_make_one_resolve_and_one_refusal(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """The bystander and the Accountable send `/incident resolve` together: whichever
    runs first, the bystander is refused and the Accountable resolves, once."""
    declared = declared_p(firebell, fake, store, "P1")
    answers: dict[str, httpx.Response] = {}
    start = threading.Barrier(2)

    def send(user: str) -> None:
        start.wait(timeout=5)
        answers[user] = firebell.slack.command("resolve", user_id=user, channel_id=declared.channel)

    threads = [threading.Thread(target=send, args=(u,)) for u in (BYSTANDER, ACCOUNTABLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert "`permissions.resolve_p1`" in answer_text(answers[BYSTANDER])
    assert "resolved" in answer_text(answers[ACCOUNTABLE])
    stored = incident(store, declared.number)
    assert stored is not None
    assert stored.resolved_by == ACCOUNTABLE
    outcomes = sorted((r.actor, r.outcome) for r in records(store, "incident.resolved"))
    assert outcomes == [(ACCOUNTABLE, "ok"), (BYSTANDER, "refused")]
    assert [e.actor for e in entries(store, declared.id) if e.kind == "resolved"] == [ACCOUNTABLE]
