"""`firebell readiness` on the example config: an honest checklist for every service,
in text and JSON, from the config, the runbooks folder and the database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session

from bot.cli import main
from bot.config.load import load_config
from bot.governance.governed import governed_hash
from bot.store.db import Store, db_now
from bot.store.tables import Rollback, SignOff
from tests.conftest import ROOT

EXAMPLE = ROOT / "firebell.example.yaml"
SERVICE = "checkout-assistant"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, store: Store) -> None:
    """The example config and runbooks, on the test database (emptied)."""
    monkeypatch.setenv("FIREBELL_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("FIREBELL_RUNBOOKS", str(ROOT / "runbooks"))
    monkeypatch.setenv("DATABASE_URL", database_url)


def statuses(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, dict[str, str]]:
    """`firebell readiness --json` as {service: {item: status}}."""
    assert main(["readiness", "--json", *argv]) == 0
    found = json.loads(capsys.readouterr().out)
    return {s["service"]: {i["key"]: i["status"] for i in s["items"]} for s in found["services"]}


def test_every_service_of_the_example_gets_an_honest_checklist(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With an empty database nobody signed and no drill ran: those are missing; what
    the example config states (RACI, owner, classification, PII policy, SLOs, dashboard,
    runbook, the weekly review) is done."""
    found = statuses(capsys)
    assert set(found) == set(load_config(EXAMPLE).services)
    assert found[SERVICE] == {
        "stakeholders": "missing",
        "failure_rate": "missing",
        "raci": "done",
        "owner": "done",
        "classification": "done",
        "pii": "done",
        "slo": "done",
        "dashboard": "done",
        "rollback": "missing",
        "runbook": "done",
        "feedback": "done",
    }
    assert main(["readiness"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{SERVICE} (stage: beta): 8 of 11 done\n")
    assert "  [missing] Rollback procedure: Drilled every 7d, but no drill has run yet." in text
    assert "-> Each of them runs `/incident signoff checkout-assistant <role>`." in text


def test_recorded_sign_offs_and_drills_turn_items_done_or_stale(
    capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    """Every stakeholder signed over the current config and a drill passed yesterday:
    done; a drill that passed two weeks ago (every 7d): stale; a sign-off over another
    config: stale."""
    config = load_config(EXAMPLE)
    current = governed_hash(config, SERVICE)

    def record(session: Session, *, config_hash: str, drilled_days_ago: int) -> None:
        now = db_now(session)
        for role, user in config.services[SERVICE].readiness.stakeholders.items():
            signed = SignOff(
                service=SERVICE, role=role, user_id=user, at=now, config_hash=config_hash
            )
            session.add(signed)
        at = now - timedelta(days=drilled_days_ago)
        session.add(
            Rollback(
                service=SERVICE,
                environment="production",
                requested_by="firebell",
                dry_run=True,
                webhook_id=f"msg_{drilled_days_ago}_{config_hash[:6]}",
                state="succeeded",
                requested_at=at,
                finished_at=at,
            )
        )

    store.call(record, config_hash=current, drilled_days_ago=1)
    found = statuses(capsys, SERVICE)[SERVICE]
    assert (found["stakeholders"], found["failure_rate"], found["rollback"]) == ("done",) * 3
    store.call(record, config_hash="0" * 64, drilled_days_ago=14)
    found = statuses(capsys, SERVICE)[SERVICE]
    assert (found["stakeholders"], found["failure_rate"]) == ("stale", "stale")
    assert found["rollback"] == "done"  # the newest drill is yesterday's, ordered by time


def test_an_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`firebell readiness checkout` exits 2 and suggests the known service."""
    assert main(["readiness", "checkout"]) == 2
    assert "did you mean 'checkout-assistant'?" in capsys.readouterr().err
