"""Paging: once per person per escalation step, whoever asks."""

from __future__ import annotations

import pytest

from bot.config.model import Config
from bot.incidents.errors import UserError
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import change_severity
from bot.incidents.paging import page_now
from bot.store.db import Store
from tests.usecases.steps import data_of, declare_one, paged_users


def test_paging_someone_twice_at_one_step_is_refused_with_what_to_do_instead(
    db: Store, config: Config
) -> None:
    """The second `/incident page @U` at the same step pages nobody and says so."""
    iid = declare_one(db, config)
    db.call(page_now, config, incident_id=iid, actor="U01ML1", target="U01DA1")
    with pytest.raises(UserError, match="already paged at this escalation step"):
        db.call(page_now, config, incident_id=iid, actor="U01ML2", target="U01DA1")
    assert paged_users(db, iid).count("U01DA1") == 1


def test_the_next_escalation_step_pages_people_again(db: Store, config: Config) -> None:
    """After `Escalate`, the same person can be paged at the new step."""
    iid = declare_one(db, config)
    db.call(page_now, config, incident_id=iid, actor="U01ML1", target="U01DA1")
    db.call(escalate_now, config, incident_id=iid, actor="U01ML1")
    db.call(page_now, config, incident_id=iid, actor="U01ML1", target="U01DA1")
    assert paged_users(db, iid).count("U01DA1") == 2


def test_paging_a_team_pages_only_those_not_paged_at_this_step(db: Store, config: Config) -> None:
    """`/incident page ml` after the declaration paged its on-call adds nobody twice."""
    iid = declare_one(db, config)
    with pytest.raises(UserError):
        db.call(page_now, config, incident_id=iid, actor="U01ML2", target="ml")
    assert paged_users(db, iid) == ["U01ML1", "U01MLLEAD"]


def test_raising_the_severity_pages_only_whom_the_new_scope_adds(db: Store, config: Config) -> None:
    """P1 to P0 adds the consulted Data team; R and A, paged at declaration, are not paged."""
    iid = declare_one(db, config)
    db.call(change_severity, config, incident_id=iid, actor="U01ML1", severity="P0")
    assert paged_users(db, iid) == ["U01ML1", "U01MLLEAD", "U01DA1"]
    assert data_of(db, iid, "paged")[-1]["reason"] == {"cause": "severity", "severity": "P0"}


def test_someone_paged_by_hand_is_not_paged_again_by_a_severity_change(
    db: Store, config: Config
) -> None:
    """`page @U` then `sev P0` (U in the P0 scope): one page for U."""
    iid = declare_one(db, config)
    db.call(page_now, config, incident_id=iid, actor="U01ML1", target="U01DA1")
    db.call(change_severity, config, incident_id=iid, actor="U01ML1", severity="P0")
    assert paged_users(db, iid).count("U01DA1") == 1
