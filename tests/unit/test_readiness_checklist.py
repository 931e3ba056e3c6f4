"""The launch-readiness checklist: each of the eleven rules over plain facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config.governance import READINESS_ITEMS, Pii
from bot.config.load import parse_config
from bot.config.model import Config
from bot.governance import checklist
from bot.governance.checklist import DrillRun, Facts, SignedOff, evaluate
from bot.governance.governed import governed_hash

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
BASE = """\
channels: {announcements: C0ANNOUNCE}
severities:
  P0: {name: Outage, respond_within: 15m, notify: everyone}
  P1: {name: Broken, respond_within: 1h, notify: owning_team}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
teams:
  ml:
    name: ML Team
    members: [U01ML1, U01ML2]
    oncall: {rotation: [U01ML1, U01ML2], every: 7d, anchor: 2026-01-05T09:00:00+00:00}
  data: {name: Data Team, members: [U01DA1]}
  empty: {name: Nobody Team, members: [U01X], usergroup: S01EMPTY}
areas:
  model: {name: Model/Prompt, covers: "Accuracy", responsible: ml, accountable: U01MLLEAD,
          consulted: [data], informed: [data]}
  bare: {name: Bare, responsible: data, accountable: U01DALEAD}
services:
"""
FULL = """\
  svc:
    area: model
    classification: confidential
    runbooks: [svc-runbook]
    rollback: {url: https://deploy.example.com/hooks/rollback, drill_every: 7d}
    slo: {success_rate: 99.5%, max_failure_rate: 5%}
    dashboard: https://grafana.example.com/d/svc
    readiness: {stakeholders: {legal: U01LEGAL, business: U01BIZ}}
"""
BARE = """\
  svc:
    area: bare
"""


def config_of(services: str, extra: str = "") -> Config:
    """A config with the base teams and areas and these services."""
    return parse_config(BASE + services + extra)


def facts(config: Config, **changes: object) -> Facts:
    """The facts of `svc` under `config` at NOW, with `changes`."""
    settings = config.services["svc"]
    found = Facts(
        service="svc",
        settings=settings,
        area=config.areas.get(settings.area),
        teams=config.teams,
        config_hash=governed_hash(config, "svc"),
        now=NOW,
        classification_set="classification" in settings.model_fields_set,
        pii=config.pii,
        pii_set="pii" in config.model_fields_set,
    )
    return replace(found, **changes)  # type: ignore[arg-type]


def signed(config: Config, *roles: tuple[str, str]) -> tuple[SignedOff, ...]:
    """Fresh sign-offs of these (role, user) pairs."""
    return tuple(SignedOff(r, u, NOW, governed_hash(config, "svc")) for r, u in roles)


FULL_CONFIG = config_of(FULL)
BOTH = (("legal", "U01LEGAL"), ("business", "U01BIZ"))


def test_the_rules_are_the_seeds_eleven_items_in_order() -> None:
    """One rule per checklist item, in the order the config's keys name them."""
    assert tuple(checklist.RULES) == READINESS_ITEMS
    assert [item.key for item in evaluate(facts(FULL_CONFIG))] == list(READINESS_ITEMS)


def test_nothing_is_done_for_a_bare_service() -> None:
    """A service naming only its area has every item missing but those the area answers."""
    items = {item.key: item for item in evaluate(facts(config_of(BARE)))}
    assert {k for k, i in items.items() if i.status == "done"} == {"owner"}
    assert items["raci"].facts["empty"] == ["consulted", "informed"]
    assert items["classification"].reason == "defaulted"


def test_stakeholders_missing_when_nobody_is_named() -> None:
    """Without `readiness.stakeholders` nobody approved: missing."""
    item = checklist.stakeholders(facts(config_of(BARE)))
    assert (item.status, item.reason) == ("missing", "no_stakeholders")


def test_stakeholders_done_only_when_every_role_signed() -> None:
    """One of two roles signed: missing, naming the other; both: done."""
    one = checklist.stakeholders(facts(FULL_CONFIG, signoffs=signed(FULL_CONFIG, BOTH[0])))
    assert (one.status, one.facts["unsigned"]) == ("missing", {"business": "U01BIZ"})
    both = checklist.stakeholders(facts(FULL_CONFIG, signoffs=signed(FULL_CONFIG, *BOTH)))
    assert both.status == "done"


def test_a_signoff_before_the_slo_changed_is_stale() -> None:
    """Sign-offs over the old slo are stale once the slo changes; so is the agreement."""
    old = signed(FULL_CONFIG, *BOTH)
    changed = config_of(FULL.replace("max_failure_rate: 5%", "max_failure_rate: 8%"))
    found = facts(changed, signoffs=old)
    assert checklist.stakeholders(found).status == "stale"
    assert checklist.stakeholders(found).facts["stale"] == ["legal", "business"]
    assert checklist.failure_rate(found).status == "stale"


def test_a_signoff_by_someone_no_longer_named_does_not_count() -> None:
    """The legal stakeholder changed: the old person's sign-off leaves legal unsigned."""
    moved = config_of(FULL.replace("legal: U01LEGAL", "legal: U01NEWLAW"))
    item = checklist.stakeholders(facts(moved, signoffs=signed(moved, *BOTH)))
    assert (item.status, item.facts["unsigned"]) == ("missing", {"legal": "U01NEWLAW"})


def test_failure_rate_needs_a_target_and_the_signoffs() -> None:
    """No target, or nobody to agree it: missing; unsigned: not agreed; signed by all: done."""
    no_target = config_of(FULL.replace("slo: {success_rate: 99.5%, max_failure_rate: 5%}", ""))
    assert checklist.failure_rate(facts(no_target)).reason == "no_target"
    nobody = config_of(BARE + "    slo: {max_failure_rate: 5%}\n")
    assert checklist.failure_rate(facts(nobody)).reason == "no_stakeholders"
    unsigned = checklist.failure_rate(facts(FULL_CONFIG))
    assert (unsigned.status, unsigned.reason) == ("missing", "not_agreed")
    agreed = checklist.failure_rate(facts(FULL_CONFIG, signoffs=signed(FULL_CONFIG, *BOTH)))
    assert agreed.status == "done"
    assert agreed.facts["targets"] == {"max_failure_rate": 0.05, "success_rate": 0.995}


def test_raci_done_with_all_four_roles() -> None:
    """Area `model` names R, A, C and I: done, with each listed."""
    item = checklist.raci(facts(FULL_CONFIG))
    assert item.status == "done"
    assert item.facts["consulted"] == ["data"]


def test_raci_missing_for_an_area_without_consulted_and_informed() -> None:
    """Area `bare` has no C and no I: missing, naming them."""
    item = checklist.raci(facts(config_of(BARE)))
    assert (item.status, item.facts["empty"]) == ("missing", ["consulted", "informed"])


def test_owner_names_who_is_on_call_now() -> None:
    """An R team with a rotation: the owner is A plus whoever is on call at NOW."""
    item = checklist.owner(facts(FULL_CONFIG))
    assert (item.status, item.reason) == ("done", "on_call")
    assert item.facts["user"] in ("U01ML1", "U01ML2")
    assert item.facts["accountable"] == "U01MLLEAD"


def test_owner_missing_when_the_area_is_gone() -> None:
    """A service whose area is not in the table has no owner."""
    item = checklist.owner(facts(FULL_CONFIG, area=None))
    assert (item.status, item.reason) == ("missing", "no_area")


def test_classification_left_at_its_default_is_missing() -> None:
    """`internal` by default is not a decision; written in the file it is done."""
    assert checklist.classification(facts(config_of(BARE))).status == "missing"
    written = config_of(BARE + "    classification: internal\n")
    item = checklist.classification(facts(written))
    assert (item.status, item.facts["classification"]) == ("done", "internal")


def test_pii_missing_without_a_policy() -> None:
    """No `pii` block: missing, since masking by default is nobody's decision."""
    assert checklist.pii(facts(FULL_CONFIG)).reason == "no_policy"


def test_pii_done_when_the_policy_covers_the_service() -> None:
    """`scope: all` covers every service; `scope: pii` not an internal one."""
    with_all = config_of(FULL, "pii: {mode: hash, scope: all, hash_key_env: PII_KEY}\n")
    item = checklist.pii(facts(with_all))
    assert (item.status, item.facts) == ("done", {"mode": "hash", "scope": "all"})
    scoped = config_of(FULL.replace("confidential", "internal"), "pii: {scope: pii}\n")
    assert checklist.pii(facts(scoped)).reason == "not_covered"
    assert checklist.pii(facts(scoped, pii=Pii(scope="all"))).status == "done"


def test_slo_needs_a_target() -> None:
    """No slo: missing; an slo of only a paging threshold: missing; a target: done."""
    assert checklist.slo(facts(config_of(BARE))).reason == "no_slo"
    paging_only = config_of(BARE + "    slo: {page_below: 99%}\n")
    assert checklist.slo(facts(paging_only)).reason == "no_target"
    item = checklist.slo(facts(FULL_CONFIG))
    assert item.facts["targets"] == ["success_rate", "max_failure_rate"]


def test_dashboard_needs_a_link() -> None:
    """A `dashboard` URL is done; none is missing."""
    assert checklist.dashboard(facts(config_of(BARE))).status == "missing"
    assert checklist.dashboard(facts(FULL_CONFIG)).facts["url"].endswith("/d/svc")


@pytest.mark.parametrize(
    ("drill", "status", "reason"),
    [
        (None, "missing", "never_drilled"),
        (DrillRun(NOW - timedelta(days=1), "failed"), "missing", "drill_failed"),
        (DrillRun(NOW - timedelta(minutes=1), "running"), "missing", "drill_running"),
        (DrillRun(NOW - timedelta(days=8), "succeeded"), "stale", "drill_overdue"),
        (DrillRun(NOW - timedelta(days=6), "succeeded"), "done", "drilled"),
    ],
)
def test_rollback_counts_only_a_drill_passed_within_its_period(
    drill: DrillRun | None, status: str, reason: str
) -> None:
    """With `drill_every: 7d`, only a drill that passed in the last 7 days is done."""
    item = checklist.rollback(facts(FULL_CONFIG, last_drill=drill))
    assert (item.status, item.reason) == (status, reason)


def test_rollback_missing_without_a_hook_or_without_drills() -> None:
    """No rollback block, or one never drilled: missing, saying which."""
    assert checklist.rollback(facts(config_of(BARE))).reason == "no_rollback"
    undrilled = config_of(FULL.replace(", drill_every: 7d", ""))
    assert checklist.rollback(facts(undrilled)).reason == "no_drills"


def test_runbook_done_only_with_a_runbook_found() -> None:
    """A found runbook is done; a listed one absent from the folder is missing."""
    assert checklist.runbook(facts(FULL_CONFIG, runbooks=("svc-runbook",))).status == "done"
    absent = checklist.runbook(facts(FULL_CONFIG, runbooks_absent=("svc-runbook",)))
    assert (absent.status, absent.reason) == ("missing", "listed_absent")
    assert checklist.runbook(facts(config_of(BARE))).reason == "no_runbook"


def test_feedback_done_with_recent_cases_or_the_weekly_review() -> None:
    """Cases in the last 30 days, or a review channel: done; neither: missing."""
    assert checklist.feedback(facts(FULL_CONFIG)).status == "missing"
    assert checklist.feedback(facts(FULL_CONFIG, failure_cases=3)).facts["count"] == 3
    item = checklist.feedback(facts(FULL_CONFIG, review_channel="C0REVIEW"))
    assert (item.status, item.reason) == ("done", "review")
