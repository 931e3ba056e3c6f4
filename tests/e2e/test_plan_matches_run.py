"""`firebell check`'s plan against what a running firebell sends, for every severity.

The config is tests/configs/fast.yaml with every deadline seconds away (P2 within 2 s,
sprints 3 s long so the P3 reminder comes due too). Each run declares one incident
on the model area, leaves it unacknowledged past the plan's last entry, and compares
the pages (DMs) and posts Slack received, and when, with the plan made for the moment
the incident was declared.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config.load import load_config
from bot.config.model import Config
from bot.core.plan import timed_plan
from bot.core.raci import who_to_page
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from tests.conftest import ROOT, USERS
from tests.e2e.scenario import declare, incident
from tests.harness import Firebell

EARLY = 0.3  # a clock tick of slack between the database's clock and the fake's
LATE = 1.5  # the scheduler's poll, a delivery and a paced post, on a busy machine
SETTLE = 1.5  # wait this long past the plan's last entry for anything unplanned
WORDS = {
    "warn": "is unacknowledged: respond within",
    "escalate": "unacknowledged for",
    "remind": "still unacknowledged at the start of the sprint",
}


@dataclass(frozen=True)
class Sent:
    """Something firebell sent, as a plan entry reads: when (seconds after declaring)."""

    offset: float
    action: str
    users: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def seconds_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """fast.yaml with every severity's deadlines seconds away."""
    text = (ROOT / "tests" / "configs" / "fast.yaml").read_text()
    text = text.replace("sprint: {length: 14d,", "sprint: {length: 3s,")
    text = text.replace("respond_within: 4h, notify: owner", "respond_within: 2s, notify: owner")
    path: Path = tmp_path_factory.mktemp("plan") / "seconds.yaml"
    path.write_text(text)
    return load_config(path)


def _mentions(message: Message) -> tuple[str, ...]:
    return tuple(sorted(set(re.findall(r"<@(U[A-Z0-9]+)>", message.text))))


def _posts(fake: FakeSlack, channels: list[str], declared: float) -> list[Sent]:
    sent = []
    for channel in channels:
        for message in fake.messages_in(channel):
            for action, words in WORDS.items():
                if words in message.text:
                    users = _mentions(message) if action == "escalate" else ()
                    sent.append(Sent(float(message.ts) - declared, action, users))
    return sorted(sent, key=lambda entry: entry.offset)


def _pages(fake: FakeSlack, declared: float) -> list[Sent]:
    pages = [
        Sent(float(message.ts) - declared, "page", (user,))
        for user in USERS
        for message in fake.dms_to(user)
    ]
    return sorted(pages, key=lambda entry: entry.offset)


def _on_time(planned: list[Sent], sent: list[Sent]) -> list[str]:
    """Every planned entry matched by one sent entry in its time window, and nothing else."""
    problems = []
    unmatched = list(sent)
    for entry in planned:
        match = next(
            (
                s
                for s in unmatched
                if (s.action, s.users) == (entry.action, entry.users)
                and entry.offset - EARLY <= s.offset <= entry.offset + LATE
            ),
            None,
        )
        if match is None:
            problems.append(f"planned, not sent: {entry}")
        else:
            unmatched.remove(match)
    return problems + [f"sent, not planned: {s}" for s in unmatched]


@pytest.mark.parametrize("severity", ["P0", "P1", "P2", "P3"])
def test_unacknowledged_incident_gets_exactly_the_pages_and_posts_the_plan_shows(
    severity: str,
    seconds_config: Config,
    launch: Callable[[Config], Firebell],
    fake: FakeSlack,
    store: Store,
) -> None:
    """The plan `firebell check` prints is what a run sends, page for page and post for post."""
    app = launch(seconds_config)
    declare(app, fake, store, f"{severity} Checkout answers are wrong area:model")
    found = incident(store, 1)
    assert found is not None
    assert found.channel_id is not None
    at = found.declared_at
    plan = timed_plan(seconds_config, "model", severity, at)
    last = max((entry.due - at).total_seconds() for entry in plan)
    time.sleep(max(0.0, at.timestamp() + last + SETTLE - time.time()))
    declared = at.timestamp()

    policy = seconds_config.severities[severity]
    paged = (
        []
        if policy.notify == "backlog"
        else who_to_page(seconds_config, "model", policy.notify, at)
    )
    planned_pages = [Sent(0.0, "page", (page.user,)) for page in paged]
    planned_pages += [
        Sent((entry.due - at).total_seconds(), "page", (user,))
        for entry in plan
        for user in entry.users
    ]
    planned_posts = [
        Sent((entry.due - at).total_seconds(), entry.action, tuple(sorted(set(entry.users))))
        for entry in plan
    ]
    channels = [found.channel_id, "C0BACKLOG", "C0ANNOUNCE"]
    assert _on_time(planned_posts, _posts(fake, channels, declared)) == []
    assert _on_time(sorted(planned_pages, key=lambda e: e.offset), _pages(fake, declared)) == []
