"""Random commands and button presses on one incident, several at once: the invariants hold.

Each example declares a P1 and runs a few rounds; a round moves the clock, then starts
two or three operations in threads released at one instant (on PostgreSQL they run
truly at once, each in its own transaction; on SQLite in some order). Afterwards the
database must show:

- each person paged at most once per escalation step, and one DM queued per page;
- at most one pending deadline per kind, none once resolved;
- no page, warning or escalation from a deadline after the acknowledgement committed;
- every state change on the timeline exactly once, severity changes in a chain.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config.model import Config
from bot.incidents.acknowledge import acknowledge
from bot.incidents.errors import UserError
from bot.incidents.escalation import escalate_now
from bot.incidents.lifecycle import (
    add_note,
    change_severity,
    mitigate,
    post_status,
    resolve,
    set_lead,
)
from bot.incidents.paging import page_now
from bot.store.db import Store
from tests.usecases.conftest import ManualClock
from tests.usecases.steps import (
    declare_one,
    entries,
    fire,
    incident,
    paged_users,
    pending,
    together,
)

Operation = tuple[str, str]
USERS = ["U01ML1", "U01ML2", "U01DA1", "U01MLLEAD", "U0OTHER"]

operations = st.one_of(
    st.tuples(st.just("ack"), st.sampled_from(USERS)),
    st.tuples(st.just("sev"), st.sampled_from(["P0", "P1", "P2", "P3"])),
    st.tuples(st.just("status"), st.just("Rolled back, watching")),
    st.tuples(st.just("page"), st.sampled_from(["U01DA1", "U01PL1", "data", "ml"])),
    st.tuples(st.just("escalate"), st.sampled_from(USERS)),
    st.tuples(st.just("note"), st.just("Looking at the prompt diff")),
    st.tuples(st.just("lead"), st.sampled_from(USERS)),
    st.tuples(st.just("mitigated"), st.sampled_from(USERS)),
    st.tuples(st.just("resolve"), st.sampled_from(USERS)),
    st.tuples(st.just("fire"), st.just("")),
)
rounds = st.lists(
    st.tuples(
        st.sampled_from([0, 10, 30, 45, 60, 120]),  # minutes the clock moves first
        st.lists(operations, min_size=2, max_size=3),
    ),
    min_size=1,
    max_size=3,
)


def run(db: Store, config: Config, iid: int, op: Operation) -> None:
    """One command or button press, as the Slack edge would run it."""
    name, arg = op
    who = arg if arg.startswith("U") else "U01ML2"
    calls: dict[str, Callable[[], Any]] = {
        "ack": lambda: db.call(acknowledge, config, incident_id=iid, actor=who),
        "sev": lambda: db.call(change_severity, config, incident_id=iid, actor=who, severity=arg),
        "status": lambda: db.call(post_status, config, incident_id=iid, actor=who, text=arg),
        "page": lambda: db.call(page_now, config, incident_id=iid, actor=who, target=arg),
        "escalate": lambda: db.call(escalate_now, config, incident_id=iid, actor=who),
        "note": lambda: db.call(add_note, config, incident_id=iid, actor=who, text=arg),
        "lead": lambda: db.call(set_lead, incident_id=iid, actor=who, lead=arg),
        "mitigated": lambda: db.call(mitigate, config, incident_id=iid, actor=who),
        "resolve": lambda: db.call(resolve, config, incident_id=iid, actor=who),
        "fire": lambda: fire(db, config, owner="prop"),
    }
    # Refused as a user would be told (resolved already, nobody new to page ...).
    with contextlib.suppress(UserError):
        calls[name]()


def check_invariants(db: Store, iid: int) -> None:
    """What must hold for the incident whatever ran, in whatever order."""
    timeline = entries(db, iid)
    paged = [
        (p["user"], e.data["step"]) for e in timeline if e.kind == "paged" for p in e.data["pages"]
    ]
    twice = [key for key, n in Counter(paged).items() if n > 1]
    assert not twice, f"paged twice at one step: {twice}"
    assert sorted(paged_users(db, iid)) == sorted(user for user, _ in paged)

    waiting = pending(db, iid)
    assert len({d.kind for d in waiting}) == len(waiting), [d.key for d in waiting]

    kinds = [e.kind for e in timeline]
    if "acknowledged" in kinds:
        after = timeline[kinds.index("acknowledged") + 1 :]
        automatic = [
            e.kind
            for e in after
            if e.kind in ("warned", "sprint_reminder")
            or (e.kind == "escalated" and e.data["cause"] == "unacknowledged")
            or (e.kind == "paged" and e.data["reason"]["cause"] in ("unacknowledged", "severity"))
        ]
        assert not automatic, f"paged after the acknowledgement: {automatic}"

    now = incident(db, iid)
    assert kinds.count("declared") == 1
    assert kinds.count("acknowledged") == (now.acknowledged_at is not None)
    assert kinds.count("mitigated") == (now.mitigated_at is not None)
    assert kinds.count("resolved") == (now.state == "resolved")
    if now.state == "resolved":
        assert kinds[-1] == "resolved"
        assert waiting == []
    severity = "P1"
    for e in timeline:
        if e.kind == "severity_changed":
            assert e.data["from"] == severity
            severity = e.data["to"]
    assert severity == now.severity


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=rounds)
def test_concurrent_commands_and_presses_keep_the_invariants(
    db: Store, clock: ManualClock, config: Config, plan: list[tuple[int, list[Operation]]]
) -> None:
    """Whatever runs at once on one incident, the timeline, pages and deadlines agree."""
    iid = declare_one(db, config)
    for minutes, ops in plan:
        clock.advance(timedelta(minutes=minutes))
        together(*(partial(run, db, config, iid, op) for op in ops))
    fire(db, config)
    check_invariants(db, iid)
