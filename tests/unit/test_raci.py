"""RACI resolution on the SPEC example config: who is paged, invited and informed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config.load import load_config, parse_config
from bot.core.raci import (
    Informed,
    Page,
    UnknownAreaError,
    UnknownServiceError,
    UnknownTeamError,
    area_for,
    channel_invites,
    informed,
    resolve_ref,
    who_to_inform,
    who_to_page,
    who_to_page_at_level,
)

EXAMPLE = load_config(Path(__file__).resolve().parents[2] / "firebell.example.yaml")
# The ML rotation hands over on Mondays at 09:00 UTC: U01ML1 from 2 March, U01ML2 from 9 March.
WEEK_OF_ML1 = datetime(2026, 3, 2, 10, tzinfo=UTC)
WEEK_OF_ML2 = WEEK_OF_ML1 + timedelta(days=7)

OVERLAPS = parse_config(
    """\
severities:
  P0: {name: Outage, respond_within: 15m, notify: everyone}
  P1: {name: Broken, respond_within: 1h, notify: owning_team}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
channels: {announcements: C0ANNOUNCE}
teams:
  web: {name: Web Team, members: [U0WEB1, U0WEB2, U0LEAD]}
  api: {name: API Team, members: [U0API1, U0WEB2]}
areas:
  site: {name: Website, responsible: web, accountable: U0LEAD, consulted: [api, U0WEB1],
         informed: [U0CEO]}
  direct: {name: Direct, responsible: U0SOLO, accountable: U0LEAD}
"""
)


def test_team_with_rotation_resolves_to_its_on_call() -> None:
    """A team with a rotation is reached through the person on call."""
    assert resolve_ref(EXAMPLE, "ml", WEEK_OF_ML1) == [("U01ML1", "ml")]
    assert resolve_ref(EXAMPLE, "ml", WEEK_OF_ML2) == [("U01ML2", "ml")]


def test_team_without_rotation_resolves_to_all_members() -> None:
    """A team without a rotation is reached through every member."""
    assert resolve_ref(OVERLAPS, "api", WEEK_OF_ML1) == [("U0API1", "api"), ("U0WEB2", "api")]


def test_user_id_resolves_to_itself_without_a_team() -> None:
    """A user ID pages that user directly."""
    assert resolve_ref(EXAMPLE, "U01MLLEAD", WEEK_OF_ML1) == [("U01MLLEAD", None)]


def test_unknown_reference_is_refused_with_the_teams() -> None:
    """Neither a team nor a user ID: the error lists the teams."""
    with pytest.raises(UnknownTeamError, match="ml, platform, data, product, legal"):
        resolve_ref(EXAMPLE, "sre", WEEK_OF_ML1)


def test_everyone_scope_pages_responsible_accountable_and_consulted() -> None:
    """P0 (`everyone`) pages R's on-call, A and C, in that order."""
    assert who_to_page(EXAMPLE, "model", "everyone", WEEK_OF_ML1) == [
        Page("U01ML1", "responsible", "ml"),
        Page("U01MLLEAD", "accountable", None),
        Page("U01DA1", "consulted", "data"),
    ]


def test_everyone_scope_pages_every_consulted_team() -> None:
    """All consulted teams are paged, in config order."""
    assert who_to_page(EXAMPLE, "policy", "everyone", WEEK_OF_ML2) == [
        Page("U01LE1", "responsible", "legal"),
        Page("U01LELEAD", "accountable", None),
        Page("U01ML2", "consulted", "ml"),
        Page("U01PR1", "consulted", "product"),
    ]


def test_owning_team_scope_pages_responsible_and_accountable() -> None:
    """P1 (`owning_team`) pages the R team and A only."""
    assert who_to_page(EXAMPLE, "infra", "owning_team", WEEK_OF_ML1) == [
        Page("U01PL1", "responsible", "platform"),
        Page("U01PLLEAD", "accountable", None),
    ]


def test_owner_scope_pages_the_on_call_only() -> None:
    """P2 (`owner`) pages the R team's on-call and nobody else."""
    assert who_to_page(EXAMPLE, "model", "owner", WEEK_OF_ML2) == [
        Page("U01ML2", "responsible", "ml")
    ]


def test_owner_scope_without_rotation_pages_the_first_member() -> None:
    """Without a rotation, `owner` is the R team's first member."""
    assert who_to_page(OVERLAPS, "site", "owner", WEEK_OF_ML1) == [
        Page("U0WEB1", "responsible", "web")
    ]


def test_owner_scope_with_a_responsible_user_pages_that_user() -> None:
    """When R names a user, that user is the owner."""
    assert who_to_page(OVERLAPS, "direct", "owner", WEEK_OF_ML1) == [
        Page("U0SOLO", "responsible", None)
    ]


def test_backlog_scope_pages_nobody() -> None:
    """P3 (`backlog`) pages nobody."""
    assert who_to_page(EXAMPLE, "model", "backlog", WEEK_OF_ML1) == []


def test_each_person_is_paged_once_in_their_most_responsible_role() -> None:
    """Someone in R and A, or in R and C, gets one page, as responsible."""
    assert who_to_page(OVERLAPS, "site", "everyone", WEEK_OF_ML1) == [
        Page("U0WEB1", "responsible", "web"),
        Page("U0WEB2", "responsible", "web"),
        Page("U0LEAD", "responsible", "web"),
        Page("U0API1", "consulted", "api"),
    ]


def test_escalation_levels_page_their_roles() -> None:
    """Each escalation level pages its RACI role; `everyone` pages R, A and C."""
    at = WEEK_OF_ML1
    assert who_to_page_at_level(EXAMPLE, "model", "responsible", at) == [
        Page("U01ML1", "responsible", "ml")
    ]
    assert who_to_page_at_level(EXAMPLE, "model", "accountable", at) == [
        Page("U01MLLEAD", "accountable", None)
    ]
    assert who_to_page_at_level(EXAMPLE, "model", "consulted", at) == [
        Page("U01DA1", "consulted", "data")
    ]
    assert who_to_page_at_level(EXAMPLE, "model", "everyone", at) == who_to_page(
        EXAMPLE, "model", "everyone", at
    )


def test_responsible_level_pages_all_members_of_a_team_without_rotation() -> None:
    """Unlike the `owner` scope, the responsible level pages the whole R team."""
    users = [
        page.user for page in who_to_page_at_level(OVERLAPS, "site", "responsible", WEEK_OF_ML1)
    ]
    assert users == ["U0WEB1", "U0WEB2", "U0LEAD"]


def test_informed_teams_are_reached_by_channel_or_members() -> None:
    """An informed team carries its channel if it has one, and its members."""
    assert informed(EXAMPLE, "model") == [
        Informed(team="product", channel="C0PRODUCT", users=("U01PR1",))
    ]
    assert informed(EXAMPLE, "ux") == [Informed(team="legal", channel=None, users=("U01LE1",))]
    assert informed(OVERLAPS, "site") == [Informed(team=None, channel=None, users=("U0CEO",))]


def test_announcing_scopes_inform_the_announcements_channel_first() -> None:
    """everyone and owning_team post to announcements, then to the informed."""
    announcements = Informed(team=None, channel="C0ANNOUNCE", users=())
    product = Informed(team="product", channel="C0PRODUCT", users=("U01PR1",))
    assert who_to_inform(EXAMPLE, "model", "everyone") == [announcements, product]
    assert who_to_inform(EXAMPLE, "model", "owning_team") == [announcements, product]
    assert who_to_inform(EXAMPLE, "model", "owner") == [product]


def test_backlog_scope_only_posts_to_the_backlog() -> None:
    """A backlog item goes to the backlog channel and nowhere else."""
    assert who_to_inform(EXAMPLE, "model", "backlog") == [
        Informed(team=None, channel="C0BACKLOG", users=())
    ]


def test_channel_invites_add_the_rest_of_the_paged_teams() -> None:
    """The owning team joins the channel even when only its on-call is paged."""
    assert channel_invites(EXAMPLE, "model", "everyone", WEEK_OF_ML1) == [
        "U01ML1",
        "U01MLLEAD",
        "U01DA1",
        "U01ML2",
    ]
    assert channel_invites(EXAMPLE, "model", "owner", WEEK_OF_ML1) == ["U01ML1"]
    assert channel_invites(EXAMPLE, "model", "backlog", WEEK_OF_ML1) == []


def test_service_implies_its_area() -> None:
    """A declaration naming a service lands in the service's area."""
    assert area_for(EXAMPLE, service="checkout-assistant", area=None) == "model"


def test_named_area_wins_over_the_service() -> None:
    """An explicit area is kept, after checking the service exists."""
    assert area_for(EXAMPLE, service="checkout-assistant", area="infra") == "infra"


def test_without_service_or_area_the_first_area_is_used() -> None:
    """With neither, the declaration goes to the first area of the config."""
    assert area_for(EXAMPLE, service=None, area=None) == "model"


def test_area_and_service_names_match_ignoring_case() -> None:
    """`area:Infra` finds `infra`."""
    assert area_for(EXAMPLE, service=None, area="Infra") == "infra"
    assert area_for(EXAMPLE, service="Checkout-Assistant", area=None) == "model"


def test_unknown_area_lists_the_areas() -> None:
    """An unknown area is refused with the valid names."""
    with pytest.raises(UnknownAreaError, match="use one of model, infra, data, ux, policy"):
        area_for(EXAMPLE, service=None, area="billing")
    with pytest.raises(LookupError, match="'billing'"):
        who_to_page(EXAMPLE, "billing", "everyone", WEEK_OF_ML1)


def test_unknown_service_lists_the_services() -> None:
    """An unknown service is refused with the valid names."""
    with pytest.raises(UnknownServiceError, match="use one of checkout-assistant"):
        area_for(EXAMPLE, service="search", area=None)
