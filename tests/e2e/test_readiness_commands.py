"""Launch readiness through signed HTTP: `/incident readiness`, `signoff` and `stage`,
the `Sign off` button, the announcement of a move, and the stage in incidents."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from bot.audit import trail
from bot.config.load import parse_config
from bot.config.model import Config
from bot.governance.governed import governed_hash
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import AuditRecord, SignOff, StageChange
from tests.conftest import TEST_CONFIG
from tests.e2e.scenario import SERVICE, answer_text, declare, wait_delivered
from tests.harness import Firebell

STAKEHOLDERS = ("U01LEGAL", "U01BIZ")
LIVE = "live-search"  # a second service, already at `full` with nothing ready
READY_CONFIG = TEST_CONFIG.read_text().replace(
    "    dashboard: https://grafana.example.com/d/checkout\n",
    """\
    dashboard: https://grafana.example.com/d/checkout
    stage: internal
    slo: {success_rate: 99.5%, max_failure_rate: 5%}
    readiness:
      stakeholders: {legal: U01LEGAL, business: U01BIZ}
      stages: {beta: [stakeholders, raci, owner, slo, runbook], full: [rollback, pii]}
  live-search:
    area: data
    stage: full
""",
)


@pytest.fixture
def ready_config() -> Config:
    """The e2e config with stakeholders and stage gates on the checkout assistant."""
    return parse_config(READY_CONFIG)


@pytest.fixture
def app(launch: Callable[[Config], Firebell], fake: FakeSlack, ready_config: Config) -> Firebell:
    """firebell on that config, with the audit trail recording."""
    trail.install()
    for user in STAKEHOLDERS:
        fake.add_user(user, user.lower())
    return launch(ready_config)


def rows(store: Store, table: Any) -> list[Any]:
    """Every row of `table`, oldest first."""

    def read(session: Session) -> list[Any]:
        return list(session.execute(select(table).order_by(col(table.id))).scalars())

    return store.call(read)


def audited(store: Store, action: str) -> list[AuditRecord]:
    """The audit records of `action`."""
    return [r for r in rows(store, AuditRecord) if r.action == action]


def command(app: Firebell, text: str, user: str) -> str:
    """The ephemeral answer to `/incident <text>` typed by `user`."""
    return answer_text(app.slack.command(text, user_id=user, channel_id="C0GENERAL"))


def test_signoff_by_the_wrong_person_is_refused_naming_who_may(app: Firebell, store: Store) -> None:
    """U0OTHER signing as legal is told only <@U01LEGAL> may; nothing is recorded but
    the refusal's audit record."""
    answer = command(app, f"signoff {SERVICE} legal", "U0OTHER")
    assert f"Only <@U01LEGAL> may sign off `{SERVICE}` as legal" in answer
    assert rows(store, SignOff) == []
    [refused] = audited(store, "signoff")
    assert (refused.actor, refused.outcome, refused.object) == (
        "U0OTHER",
        "refused",
        f"service:{SERVICE}",
    )
    unknown = command(app, f"signoff {SERVICE} finance", "U01LEGAL")
    assert "has no stakeholder role `finance`" in unknown
    assert "`legal` (<@U01LEGAL>)" in unknown


def test_signoff_by_the_stakeholder_is_recorded_once_with_the_config_hash(
    app: Firebell, store: Store, ready_config: Config
) -> None:
    """U01LEGAL's sign-off is kept with who, when and the governed config's hash; a
    second one over the same config records nothing more."""
    assert "Signed off `checkout-assistant` as legal" in command(
        app, f"signoff {SERVICE} legal", "U01LEGAL"
    )
    assert "already" in command(app, f"signoff {SERVICE} legal", "U01LEGAL")
    [kept] = rows(store, SignOff)
    assert (kept.service, kept.role, kept.user_id) == (SERVICE, "legal", "U01LEGAL")
    assert kept.config_hash == governed_hash(ready_config, SERVICE)
    assert [r.outcome for r in audited(store, "signoff")] == ["ok", "ok"]


def test_stage_is_refused_until_ready_then_moved_and_announced(
    app: Firebell, store: Store, fake: FakeSlack
) -> None:
    """beta needs the stakeholders: refused with the item named until both sign, then
    moved, recorded with who did it and announced; full is refused listing its items."""
    refused = command(app, f"stage {SERVICE} beta", "U0OTHER")
    assert "stays at internal" in refused
    assert "Stakeholders approved (`stakeholders`)" in refused
    assert rows(store, StageChange) == []
    for role, user in (("legal", "U01LEGAL"), ("business", "U01BIZ")):
        command(app, f"signoff {SERVICE} {role}", user)
    moved = command(app, f"stage {SERVICE} beta", "U0OTHER")
    assert "Moved `checkout-assistant` from internal to beta" in moved
    assert "<#C0ANNOUNCE>" in moved
    [change] = rows(store, StageChange)
    assert (change.from_stage, change.to_stage, change.actor) == ("internal", "beta", "U0OTHER")
    wait_delivered(fake, store)
    posts = [m.text for m in fake.messages_in("C0ANNOUNCE")]
    assert any("*checkout-assistant* moved from internal to beta by <@U0OTHER>" in p for p in posts)
    full = command(app, f"stage {SERVICE} full", "U0OTHER")
    assert "stays at beta" in full
    assert "Rollback procedure (`rollback`)" in full
    assert "PII policy in force (`pii`)" in full
    outcomes = [(r.outcome, r.detail.get("to")) for r in audited(store, "stage")]
    assert outcomes == [("refused", "beta"), ("ok", "beta"), ("refused", "full")]


def test_moving_back_is_always_allowed(app: Firebell, store: Store, fake: FakeSlack) -> None:
    """A service at full with nothing ready moves back to internal, told as a move back."""
    answer = command(app, f"stage {LIVE} internal", "U01DA1")
    assert "Moved `live-search` back from full to internal" in answer
    wait_delivered(fake, store)
    assert any("moved back from full to internal" in m.text for m in fake.messages_in("C0ANNOUNCE"))
    assert "is at internal already" in command(app, f"stage {LIVE} internal", "U01DA1")
    assert len(rows(store, StageChange)) == 1


def test_readiness_shows_the_checklist_and_a_sign_off_button_for_the_stakeholder(
    app: Firebell, store: Store, fake: FakeSlack
) -> None:
    """The legal stakeholder sees eleven items, `Sign off as legal` and the dashboard;
    someone else no sign-off button; pressing it records the sign-off."""
    response = app.slack.command(f"readiness {SERVICE}", user_id="U01LEGAL")
    body = response.json()
    texts = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert len(texts) == 11
    assert texts[0].startswith(":x: *Stakeholders approved* (missing)")
    assert any("*Data classification set* (done)" in t for t in texts)
    assert "Stage: internal" in json.dumps(body["blocks"])
    buttons = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["text"]["text"] for e in buttons] == ["Sign off as legal", "Open dashboard"]
    other = app.slack.command(f"readiness {SERVICE}", user_id="U0OTHER").json()
    assert "Sign off" not in json.dumps(other["blocks"])
    url = fake.response_url(user_id="U01LEGAL", channel_id="C0GENERAL")
    pressed = app.slack.block_action(
        buttons[0]["action_id"],
        buttons[0]["value"],
        user_id="U01LEGAL",
        channel_id="C0GENERAL",
        response_url=url,
    )
    assert pressed.status_code == 200
    answer = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert "Signed off `checkout-assistant` as legal" in answer[0].text
    assert [s.user_id for s in rows(store, SignOff)] == ["U01LEGAL"]


def test_a_button_pressed_by_someone_else_is_refused(
    app: Firebell, store: Store, fake: FakeSlack
) -> None:
    """A `Sign off as legal` value pressed by U0OTHER signs nothing and names who may."""
    value = json.dumps({"service": SERVICE, "role": "legal"})
    url = fake.response_url(user_id="U0OTHER", channel_id="C0GENERAL")
    app.slack.block_action(
        "readiness_signoff:legal",
        value,
        user_id="U0OTHER",
        channel_id="C0GENERAL",
        response_url=url,
    )
    answer = fake.wait_for(lambda: [r for r in fake.responses if url.endswith(r.id)])
    assert "Only <@U01LEGAL> may sign off" in answer[0].text
    assert rows(store, SignOff) == []


def test_an_incident_on_a_staged_service_shows_its_stage(
    app: Firebell, store: Store, fake: FakeSlack
) -> None:
    """The main message of an incident on the checkout assistant says `Stage: internal`."""
    declared = declare(app, fake, store, f"P2 Wrong answers service:{SERVICE}")
    assert "Stage: internal" in json.dumps(declared.main.blocks)


def test_unknown_service_and_stage_are_explained(app: Firebell) -> None:
    """A typo names the known services; a bad stage names the stages."""
    assert "Known services: `checkout-assistant`, `live-search`" in command(
        app, "stage checkout beta", "U0OTHER"
    )
    assert "use one of `internal`, `beta`, `full`" in command(
        app, f"stage {SERVICE} prod", "U0OTHER"
    )
    assert "Usage: `/incident readiness <service>`" in command(app, "readiness", "U0OTHER")
