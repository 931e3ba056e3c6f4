"""The rollback target: the version before the current one, skipping rolled-back ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.deploys import DeployFact, Target, rollback_target

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def history(*versions: str | tuple[str, str]) -> list[DeployFact]:
    """Deploys an hour apart; `(version, from_version)` is a rollback's deploy."""
    facts = []
    for hours, one in enumerate(versions):
        version, rolled_back_from = (one, None) if isinstance(one, str) else one
        facts.append(DeployFact(version, START + timedelta(hours=hours), rolled_back_from))
    return facts


def test_no_deploys_means_no_current_version_and_no_target() -> None:
    """A service nobody reported a deploy of has neither a version nor a target."""
    assert rollback_target([]) == Target(None, None)


def test_one_deploy_has_a_current_version_but_no_target() -> None:
    """The first deploy has nothing before it to go back to."""
    assert rollback_target(history("v1")) == Target("v1", None)


def test_target_is_the_version_deployed_before_the_current_one() -> None:
    """After v1, v2, v3 the target is v2."""
    assert rollback_target(history("v1", "v2", "v3")) == ("v3", "v2")


def test_redeploying_the_current_version_does_not_make_it_its_own_target() -> None:
    """v1, v2, v2: a redeploy of v2 leaves v1 as the target."""
    assert rollback_target(history("v1", "v2", "v2")) == ("v2", "v1")


def test_only_redeploys_of_one_version_have_no_target() -> None:
    """v1, v1, v1: there is no other version to go back to."""
    assert rollback_target(history("v1", "v1", "v1")) == ("v1", None)


def test_a_version_rolled_back_from_is_skipped() -> None:
    """v1, v2, v3, then a rollback from v3 to v2: the next target is v1, not v3."""
    assert rollback_target(history("v1", "v2", "v3", ("v2", "v3"))) == ("v2", "v1")


def test_a_rollback_of_a_rollback_goes_further_back() -> None:
    """Rolling back from v2 to v1 after rolling back from v3 to v2 leaves no target."""
    facts = history("v1", "v2", "v3", ("v2", "v3"), ("v1", "v2"))
    assert rollback_target(facts) == ("v1", None)


def test_rolling_back_the_only_rollback_goes_nowhere_forward() -> None:
    """v1, v2, rolled back to v1: v2 was rolled back from, so there is no target."""
    assert rollback_target(history("v1", "v2", ("v1", "v2"))) == ("v1", None)


def test_a_version_deployed_again_after_its_rollback_counts_again() -> None:
    """v3 rolled back from, then shipped again, then v4: the target is v3."""
    facts = history("v1", "v2", "v3", ("v2", "v3"), "v3", "v4")
    assert rollback_target(facts) == ("v4", "v3")


def test_a_rollback_skips_older_deploys_of_its_from_version_too() -> None:
    """v2 deployed twice before the rollback from v2: both deploys are skipped."""
    facts = history("v1", "v2", "v3", "v2", ("v3", "v2"))
    assert rollback_target(facts) == ("v3", "v1")
