"""Declaring: numbers, what a declaration queues, and Slack's retries."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from bot.config.model import Config
from bot.incidents.declare import Declaration, Declared, declare
from bot.incidents.errors import UserError
from bot.store.db import Store
from bot.store.tables import Incident
from tests.usecases.steps import declare_one, incident, pending, queued, together


def _declaration(key: str | None = None, **fields: str) -> Declaration:
    values = {"title": "Checkout answers are wrong", "severity": "P1", "declared_by": "U0OTHER"}
    return Declaration(**{**values, **fields}, request_key=key)  # type: ignore[arg-type]


def test_numbers_follow_each_other_and_the_channel_is_named_after_the_number(
    db: Store, config: Config
) -> None:
    """INC-1, INC-2 ...; each channel is `inc-<n>-<slug>`."""
    first, second = declare_one(db, config), declare_one(db, config)
    assert (incident(db, first).number, incident(db, second).number) == (1, 2)
    assert incident(db, second).channel_name == "inc-2-checkout-answers-are-wrong"


def test_a_declaration_that_fails_gives_its_number_back(db: Store, config: Config) -> None:
    """A transaction that fails after declaring leaves no incident and no gap in numbers."""

    def declare_then_fail(session: Session) -> None:
        declare(session, config, _declaration())
        raise RuntimeError("the rest of the transaction failed")

    declare_one(db, config)
    with pytest.raises(RuntimeError):
        db.call(declare_then_fail)
    assert incident(db, declare_one(db, config)).number == 2


def test_a_retried_request_finds_its_incident_even_when_both_copies_run_at_once(
    db: Store, config: Config
) -> None:
    """Four copies of one Slack request declare one incident; every copy answers with it."""
    answers: list[Declared] = []

    def copy() -> None:
        answers.append(db.call(declare, config, _declaration("cmd:123.456")))

    together(*(partial(copy) for _ in range(4)))
    assert sorted(a.created for a in answers) == [False, False, False, True]
    assert {a.incident.id for a in answers} == {answers[0].incident.id}
    assert {a.incident.number for a in answers} == {1}
    count = db.call(lambda s: s.execute(select(func.count()).select_from(Incident)).scalar_one())
    assert count == 1
    assert incident(db, declare_one(db, config)).number == 2  # no number was lost


def test_a_p1_queues_its_channel_pages_and_announcements_in_lane_order(
    db: Store, config: Config
) -> None:
    """Channel first, then its invite, main message, pin and paging post; DMs and mirrors
    in lanes of their own."""
    iid = declare_one(db, config)
    rows = queued(db, iid)
    channel = [r.kind for r in rows if r.lane == f"inc:{iid}"]
    assert channel == ["open_channel", "invite", "post_main", "pin_main", "channel_post"]
    pages = sorted(r.lane for r in rows if r.kind == "page")
    assert pages == [f"dm:U01ML1:inc:{iid}", f"dm:U01MLLEAD:inc:{iid}"]
    assert sorted(r.payload["channel"] for r in rows if r.kind == "mirror") == [
        "C0ANNOUNCE",
        "C0PRODUCT",
    ]
    assert [d.kind for d in pending(db, iid)] == ["warn", "escalate"]


def test_the_incident_keeps_the_name_its_area_had_when_declared(db: Store, config: Config) -> None:
    """The area's name is stored with the incident, for when the config changes."""
    iid = declare_one(db, config, area="infra")
    assert (incident(db, iid).area, incident(db, iid).area_name) == ("infra", "Infra/Deploy")


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"title": " "}, "title"), ({"severity": "P9"}, "severity"), ({"area": "nope"}, "scope")],
)
def test_a_bad_declaration_names_the_field_at_fault_and_declares_nothing(
    db: Store, config: Config, fields: dict[str, str], field: str
) -> None:
    """Title, severity and area errors say which form field to fix."""
    with pytest.raises(UserError) as refused:
        db.call(declare, config, _declaration(**fields))
    assert refused.value.field == field
    count = db.call(lambda s: s.execute(select(func.count()).select_from(Incident)).scalar_one())
    assert count == 0
