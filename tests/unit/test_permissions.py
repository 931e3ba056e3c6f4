"""Who may lower a P0, resolve a P0/P1 and roll back: every kind of entry of a
`permissions:` rule, the refusal's words, and how `firebell check` reads the block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config.load import ConfigError, Problem, load_config, parse_config
from bot.config.model import Config
from bot.core.permissions import (
    ACTIONS,
    Action,
    IncidentFacts,
    describe,
    may,
    peak_severity,
    resolve_action,
    severity_action,
)
from bot.messages.permissions import refusal

EXAMPLE_TEXT = (Path(__file__).resolve().parents[2] / "firebell.example.yaml").read_text()
EXAMPLE = load_config(Path(__file__).resolve().parents[2] / "firebell.example.yaml")
# The ML rotation hands over on Mondays at 09:00 UTC: U01ML1 from 2 March, U01ML2 from 9 March.
WEEK_OF_ML1 = datetime(2026, 3, 2, 10, tzinfo=UTC)
WEEK_OF_ML2 = WEEK_OF_ML1 + timedelta(days=7)


def facts(
    *, area: str = "model", lead: str | None = None, declared_by: str | None = None
) -> IncidentFacts:
    """An incident in `area` during U01ML1's on-call week."""
    return IncidentFacts(area=area, lead=lead, declared_by=declared_by, at=WEEK_OF_ML1)


def with_rule(action: Action, rule: list[str]) -> Config:
    """The example config with `permissions.<action>` set to `rule`."""
    permissions = EXAMPLE.permissions.model_copy(update={action: rule})
    return EXAMPLE.model_copy(update={"permissions": permissions})


def allowed(config: Config, action: Action, incident: IncidentFacts) -> set[str]:
    """The users `may` lets do `action`, checked one by one, over everyone in the config."""
    everyone = {
        "U01ML1",
        "U01ML2",
        "U01PL1",
        "U01DA1",
        "U01PR1",
        "U01LE1",
        "U01MLLEAD",
        "U01PLLEAD",
        "U0OTHER",
        "U0CTO",
    }
    return {user for user in everyone if may(action, user, incident, config).allowed}


def refused(text: str) -> list[Problem]:
    """The problems for which the config `text` is refused."""
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    return caught.value.problems


def test_by_default_the_responsible_team_the_accountable_and_the_lead_may() -> None:
    """Every action: ML's members and rotation, U01MLLEAD, and the incident's lead."""
    for action in ACTIONS:
        assert allowed(EXAMPLE, action, facts(lead="U01PL1")) == {
            "U01ML1",
            "U01ML2",
            "U01MLLEAD",
            "U01PL1",
        }


def test_by_default_consulted_informed_and_bystanders_may_not() -> None:
    """Data (consulted), Product (informed) and someone outside the RACI are refused."""
    for user in ("U01DA1", "U01PR1", "U0OTHER"):
        assert not may("resolve_p1", user, facts(), EXAMPLE).allowed


def test_the_lead_may_only_while_lead() -> None:
    """Permission follows the incident's lead, not a person's past role."""
    assert may("rollback", "U0OTHER", facts(area="infra", lead="U0OTHER"), EXAMPLE).allowed
    assert not may("rollback", "U0OTHER", facts(area="infra"), EXAMPLE).allowed


def test_accountable_alone_is_the_areas_accountable_person() -> None:
    """`accountable` names one person: the Accountable of the incident's own area."""
    config = with_rule("resolve_p0", ["accountable"])
    assert allowed(config, "resolve_p0", facts()) == {"U01MLLEAD"}
    assert allowed(config, "resolve_p0", facts(area="infra")) == {"U01PLLEAD"}


def test_consulted_and_informed_are_the_members_of_those_teams() -> None:
    """The model area consults Data and informs Product."""
    assert allowed(with_rule("resolve_p1", ["consulted"]), "resolve_p1", facts()) == {"U01DA1"}
    assert allowed(with_rule("resolve_p1", ["informed"]), "resolve_p1", facts()) == {"U01PR1"}


def test_oncall_is_who_holds_the_responsible_teams_pager_now() -> None:
    """Only the on-call of the week may: U01ML1, then U01ML2 the week after."""
    config = with_rule("lower_p0_severity", ["oncall"])
    assert allowed(config, "lower_p0_severity", facts()) == {"U01ML1"}
    later = IncidentFacts(area="model", lead=None, declared_by=None, at=WEEK_OF_ML2)
    assert allowed(config, "lower_p0_severity", later) == {"U01ML2"}


def test_oncall_of_a_team_without_rotation_is_its_members() -> None:
    """Platform has no rotation: it is paged through its members, who are its on-call."""
    config = with_rule("lower_p0_severity", ["oncall"])
    assert allowed(config, "lower_p0_severity", facts(area="infra")) == {"U01PL1"}


def test_declarer_is_the_person_who_declared_never_alerts() -> None:
    """A person's declaration makes them `declarer`; an alert's has none."""
    config = with_rule("resolve_p1", ["declarer"])
    assert allowed(config, "resolve_p1", facts(declared_by="U0OTHER")) == {"U0OTHER"}
    assert allowed(config, "resolve_p1", facts(declared_by=None)) == set()


def test_a_team_key_names_its_members_and_a_user_id_that_person() -> None:
    """`legal` is U01LE1; `U0CTO` is someone named nowhere else in the config."""
    config = with_rule("rollback", ["legal", "U0CTO"])
    decision = may("rollback", "U0CTO", facts(), config)
    assert decision.allowed
    assert decision.who_may == ("U01LE1", "U0CTO")
    assert decision.teams == ("Legal/Compliance",)


def test_the_decision_names_who_may_in_rule_order_once_each() -> None:
    """A person in two entries is named once, where the rule first names them."""
    config = with_rule("resolve_p1", ["accountable", "responsible", "U01MLLEAD"])
    decision = may("resolve_p1", "U0OTHER", facts(), config)
    assert not decision.allowed
    assert decision.who_may == ("U01MLLEAD", "U01ML1", "U01ML2")
    assert decision.rule == ("accountable", "responsible", "U01MLLEAD")


def test_an_area_gone_from_the_config_leaves_only_the_people_named_directly() -> None:
    """An incident outlives a config change: its area's roles name nobody, a user ID still does."""
    config = with_rule("resolve_p1", ["responsible", "accountable", "lead", "U0CTO"])
    assert allowed(config, "resolve_p1", facts(area="gone", lead="U01PL1")) == {"U01PL1", "U0CTO"}


def test_which_actions_need_a_permission() -> None:
    """Resolving a P0 or P1 and lowering a P0 or a P1 do; raising, and lowering a P2, do not."""
    assert resolve_action("P0") == "resolve_p0"
    assert resolve_action("P1") == "resolve_p1"
    assert resolve_action("P2") is None
    assert severity_action("P0", "P1") == "lower_p0_severity"
    assert severity_action("P0", "P2") == "lower_p0_severity"
    assert severity_action("P1", "P2") == "resolve_p1"
    assert severity_action("P1", "P3") == "resolve_p1"
    assert severity_action("P1", "P0") is None
    assert severity_action("P3", "P1") is None
    assert severity_action("P2", "P3") is None


def test_the_peak_severity_is_the_highest_the_incident_ever_had() -> None:
    """Now, or either side of any change: a P1 lowered to P3 peaked at P1; a P3 raised
    to P0 and lowered again at P0; a P3 never changed at P3."""
    assert peak_severity("P3", [("P1", "P2"), ("P2", "P3")]) == "P1"
    assert peak_severity("P2", [("P3", "P0"), ("P0", "P2")]) == "P0"
    assert peak_severity("P3", []) == "P3"
    assert peak_severity("P1", [("P2", "P1")]) == "P1"


def test_a_refused_lowering_of_a_p1_says_lowering_and_how_to_lower() -> None:
    """`resolve_p1` guards the lowering too; the answer names what was tried."""
    decision = may("resolve_p1", "U0OTHER", facts(), EXAMPLE)
    text = refusal(
        EXAMPLE, "resolve_p1", decision, attempted="incident.severity_changed", severity="P1"
    )
    assert "may lower the severity of a P1 incident (`permissions.resolve_p1`)." in text
    assert "Ask one of them to run `/incident sev <P2-P3>` in the incident channel." in text


def test_a_refused_resolve_of_a_lowered_incident_says_it_was_higher() -> None:
    """A P2 that was P1: the answer says why a P2 needs `resolve_p1`."""
    decision = may("resolve_p1", "U0OTHER", facts(), EXAMPLE)
    text = refusal(EXAMPLE, "resolve_p1", decision, attempted="incident.resolved", severity="P2")
    words = "may resolve an incident that was ever P1, as this P2 was (`permissions.resolve_p1`)."
    assert words in text
    assert "Ask one of them to resolve it" in text


def test_a_refusal_names_the_rule_the_people_and_what_to_do() -> None:
    """Mentions for people, the team by name, the config key, and whom to ask."""
    decision = may("resolve_p1", "U0OTHER", facts(), EXAMPLE)
    text = refusal(EXAMPLE, "resolve_p1", decision)
    assert text.startswith(
        ":no_entry: Only the Responsible team, the Accountable person or the incident lead "
        "may resolve a P1 incident (`permissions.resolve_p1`)."
    )
    assert "<@U01ML1>, <@U01ML2>, <@U01MLLEAD> (teams: ML Team)" in text
    assert "Ask one of them to resolve it" in text


def test_a_refusal_when_nobody_fills_the_roles_says_whom_to_turn_to() -> None:
    """`lead` of an incident without one: nobody may, so the answer says who can change that."""
    config = with_rule("resolve_p0", ["lead"])
    text = refusal(config, "resolve_p0", may("resolve_p0", "U0OTHER", facts(), config))
    assert "Nobody fills that role for this incident now" in text
    assert "`permissions.resolve_p0`" in text


def test_check_refuses_an_unknown_entry_with_its_line_and_a_suggestion() -> None:
    """A misspelt role is refused at its line, with the closest name."""
    text = EXAMPLE_TEXT + "permissions:\n  resolve_p1: [accountable, respnsible]\n"
    problems = refused(text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.line == len(EXAMPLE_TEXT.splitlines()) + 2
    assert "'respnsible' is neither a role" in problem.message
    assert "did you mean 'responsible'?" in problem.message


def test_check_refuses_an_unknown_action_and_an_empty_rule() -> None:
    """`resolve_p2` is no permission; `rollback: []` would let nobody roll back."""
    text = EXAMPLE_TEXT + "permissions:\n  resolve_p2: [lead]\n  rollback: []\n"
    messages = " | ".join(f"{p.where}: {p.message}" for p in refused(text))
    assert "resolve_p2" in messages
    assert "permissions.rollback: is empty: nobody could ever do it" in messages


def test_check_accepts_teams_and_user_ids_and_prints_the_rules() -> None:
    """A team key and a user ID are valid entries; the plan shows each rule."""
    text = EXAMPLE_TEXT + "permissions:\n  rollback: [platform, U0CTO, oncall]\n"
    lines = describe(parse_config(text))
    assert lines[0] == "Permissions (beyond working in the incident channel)"
    assert "  rollback           platform (Platform Team), U0CTO, oncall" in lines
    assert "  resolve_p0         responsible, accountable, lead" in lines
