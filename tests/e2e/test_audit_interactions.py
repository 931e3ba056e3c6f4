"""Every Slack interaction is on the audit trail with how it ended, not only the
`/incident` commands and the main message's buttons: the declare form, a follow-up's
`Done`, a Rollback press, the rollback confirmation."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.messages.followups import DONE_ACTION
from bot.messages.rollback import CONFIRM_FORM, ROLLBACK
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import AuditRecord
from tests.e2e.scenario import Declared, wait_declared
from tests.e2e.test_buttons_and_modal import CALLBACK, _form
from tests.harness import Firebell


def edge_records(store: Store, fake: FakeSlack, action: str, count: int) -> list[AuditRecord]:
    """The `action` records once there are `count` of them (they follow the answer)."""
    query = (
        select(AuditRecord).where(col(AuditRecord.action) == action).order_by(col(AuditRecord.seq))
    )

    def found() -> list[AuditRecord]:
        return store.call(lambda s: list(s.execute(query).scalars()))

    def enough() -> list[AuditRecord] | None:
        kept = found()
        return kept if len(kept) >= count else None

    return fake.wait_for(enough, timeout=5)


def test_the_declare_form_is_recorded_ok_and_a_bad_one_refused_with_its_reason(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A good submission: `form.declare_incident` ok; a blank title: refused, the reason
    kept; both by who submitted."""
    assert (
        firebell.slack.view_submission(CALLBACK, _form("   "), user_id="U01ML1").status_code == 200
    )
    response = firebell.slack.view_submission(CALLBACK, _form("Prices are wrong"), user_id="U01DA1")
    assert response.status_code == 200
    wait_declared(fake, store, 1)
    refused, ok = edge_records(store, fake, f"form.{CALLBACK}", 2)
    assert (refused.actor, refused.outcome) == ("U01ML1", "refused")
    assert "title" in refused.detail["reason"]
    assert (ok.actor, ok.outcome, ok.source) == ("U01DA1", "ok", "slack")


def test_a_followups_done_press_and_a_forged_one_are_recorded(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`Done` on a real follow-up: ok; on a follow-up id nobody made: refused."""
    firebell.slack.command("followup Alert on the error rate", channel_id=declared.channel)
    posted = fake.wait_for(
        lambda: [m for m in fake.messages_in(declared.channel) if DONE_ACTION in str(m.blocks)]
    )
    for value in (None, "999999"):
        response = firebell.slack.block_action(
            DONE_ACTION,
            value,
            user_id="U01ML1",
            channel_id=declared.channel,
            message_ts=posted[0].ts,
        )
        assert response.status_code == 200
    done, forged = edge_records(store, fake, f"button.{DONE_ACTION}", 2)
    assert (done.outcome, forged.outcome) == ("ok", "refused")
    assert forged.detail["value"] == "999999"


def test_a_bystanders_rollback_press_and_confirmation_are_recorded_refused(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A Rollback press by someone `permissions.rollback` does not name, and a forged
    confirmation: each a refused record, by the presser."""
    response = firebell.slack.block_action(
        ROLLBACK, str(declared.id), user_id="U0OTHER", channel_id=declared.channel
    )
    assert response.status_code == 200
    metadata = f'{{"incident": {declared.id}, "service": "nope"}}'
    response = firebell.slack.view_submission(
        CONFIRM_FORM, {}, user_id="U0OTHER", private_metadata=metadata
    )
    assert response.status_code == 200
    pressed = edge_records(store, fake, f"button.{ROLLBACK}", 1)[0]
    submitted = edge_records(store, fake, f"form.{CONFIRM_FORM}", 1)[0]
    assert (pressed.actor, pressed.outcome) == ("U0OTHER", "refused")
    assert (submitted.actor, submitted.outcome) == ("U0OTHER", "refused")
