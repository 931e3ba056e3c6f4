"""Stage gates, the governed-config hash and the checklist's item names in the config."""

from __future__ import annotations

import pytest

from bot.config.governance import READINESS_ITEMS, Readiness
from bot.config.load import ConfigError, parse_config
from bot.governance.checklist import Item
from bot.governance.governed import governed_hash
from bot.governance.stages import DEFAULT_STAGE_ITEMS, gate, required_items
from tests.unit.test_readiness_checklist import BASE, FULL


def done(*keys: str) -> list[Item]:
    """A checklist where exactly `keys` are done."""
    return [Item(k, "done" if k in keys else "missing", "r") for k in READINESS_ITEMS]


def test_internal_needs_nothing_beta_five_items_full_all_eleven() -> None:
    """The default gates: internal none; beta RACI, owner, SLO, runbook, rollback; full all."""
    assert DEFAULT_STAGE_ITEMS["internal"] == ()
    assert set(DEFAULT_STAGE_ITEMS["beta"]) == {"raci", "owner", "slo", "runbook", "rollback"}
    assert DEFAULT_STAGE_ITEMS["full"] == READINESS_ITEMS


def test_moving_forward_is_refused_with_the_missing_items() -> None:
    """internal -> beta with only RACI and owner done names slo, rollback and runbook."""
    decision = gate(Readiness(), "internal", "beta", done("raci", "owner"))
    assert not decision.allowed
    assert decision.missing == ("slo", "rollback", "runbook")


def test_moving_forward_is_allowed_once_the_stage_items_are_done() -> None:
    """Every beta item done: the move is allowed."""
    decision = gate(Readiness(), "internal", "beta", done(*DEFAULT_STAGE_ITEMS["beta"]))
    assert (decision.direction, decision.allowed) == ("forward", True)


def test_moving_back_is_always_allowed() -> None:
    """full -> internal with nothing done: allowed, a move back."""
    decision = gate(Readiness(), "full", "internal", done())
    assert (decision.direction, decision.allowed) == ("back", True)


def test_skipping_a_stage_needs_the_items_of_both() -> None:
    """internal -> full with custom lists needs the beta list and the full list."""
    readiness = Readiness(stages={"beta": ["dashboard"], "full": ["pii"]})
    assert required_items(readiness, "internal", "full") == ("pii", "dashboard")
    assert gate(readiness, "internal", "full", done("pii")).missing == ("dashboard",)


def test_a_configured_stage_list_replaces_the_default() -> None:
    """`readiness.stages.beta: [slo]` makes beta need only the SLO."""
    readiness = Readiness(stages={"beta": ["slo"]})
    assert gate(readiness, "internal", "beta", done("slo")).allowed


def test_an_unknown_item_in_readiness_stages_is_refused_with_the_list() -> None:
    """`readiness.stages.beta: [runbooks]` is refused, naming every item."""
    bad = (BASE + FULL).replace(
        "readiness: {stakeholders: {legal: U01LEGAL, business: U01BIZ}}",
        "readiness: {stages: {beta: [runbooks]}}",
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(bad)
    message = str(caught.value)
    assert "'runbooks'" in message
    assert ", ".join(READINESS_ITEMS) in message


def test_a_stakeholder_must_be_a_user_id() -> None:
    """`stakeholders: {legal: legal-team}` is refused: a sign-off is one person's."""
    bad = (BASE + FULL).replace("legal: U01LEGAL", "legal: legal-team")
    with pytest.raises(ConfigError) as caught:
        parse_config(bad)
    assert "readiness.stakeholders.legal" in str(caught.value)


def test_the_hash_changes_with_the_governed_config_only() -> None:
    """slo, classification, rollback and the RACI row change the hash; a dashboard not."""
    base = governed_hash(parse_config(BASE + FULL), "svc")
    same = FULL.replace("d/svc", "d/other")
    assert governed_hash(parse_config(BASE + same), "svc") == base
    for old, new in (
        ("success_rate: 99.5%", "success_rate: 99.9%"),
        ("classification: confidential", "classification: pii"),
        ("drill_every: 7d", "drill_every: 1d"),
    ):
        assert governed_hash(parse_config(BASE + FULL.replace(old, new)), "svc") != base
    raci = (BASE + FULL).replace("informed: [data]}", "informed: [ml]}")
    assert governed_hash(parse_config(raci), "svc") != base


def test_the_hash_ignores_how_the_yaml_is_written() -> None:
    """The same slo in block style hashes like the flow style."""
    block = FULL.replace(
        "slo: {success_rate: 99.5%, max_failure_rate: 5%}",
        "slo:\n      max_failure_rate: 5%\n      success_rate: 99.5%",
    )
    assert governed_hash(parse_config(BASE + block), "svc") == governed_hash(
        parse_config(BASE + FULL), "svc"
    )
