"""The sandbox shows a restricted incident's private channel as Slack would: to its
members only; everybody else sees neither the channel nor its name in a link."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.sandbox.interactions import SandboxError
from bot.sandbox.session import GENERAL, Session
from bot.store.db import Store
from tests.e2e.scenario import SERVICE, TITLE, Declared, declare, wait_delivered
from tests.e2e.test_restricted import OUTSIDER, with_classification
from tests.harness import SIGNING_SECRET, Firebell


@pytest.fixture
def config(config: Config) -> Config:
    """The e2e config with the checkout assistant handling personal data (`pii`)."""
    return with_classification(config, "pii")


@pytest.fixture
def session(firebell: Firebell, fake: FakeSlack, config: Config) -> Iterator[Session]:
    """The sandbox page's side of the fake workspace, sending to the running firebell."""
    fake.add_channel("general", channel_id=GENERAL, members=set(fake.users))
    found = Session(fake, config, app_url=firebell.url, signing_secret=SIGNING_SECRET)
    yield found
    found.close()


@pytest.fixture
def restricted(firebell: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """A P1 on the `pii` checkout assistant, declared by U0OTHER, every message delivered."""
    found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
    wait_delivered(fake, store)
    return found


def test_only_members_see_the_private_channel_in_the_sidebar_and_can_open_it(
    session: Session, restricted: Declared
) -> None:
    """The declarer has it in the sidebar and opens it; the outsider has neither."""
    assert restricted.channel in {c["id"] for c in session.state("U0OTHER")["channels"]}
    assert TITLE in str(session.channel("U0OTHER", restricted.channel))
    assert restricted.channel not in {c["id"] for c in session.state(OUTSIDER)["channels"]}
    with pytest.raises(SandboxError):
        session.channel(OUTSIDER, restricted.channel)
    with pytest.raises(SandboxError):
        session.say(OUTSIDER, restricted.channel, "/incident show INC-1")


def test_a_link_to_the_private_channel_shows_its_name_only_to_members(
    session: Session, restricted: Declared, fake: FakeSlack
) -> None:
    """In the announcements, the outsider reads `#private-channel`, a member its name."""
    fake.add_channel("announce", channel_id="C0ANNOUNCE", members=set(fake.users))
    name = fake.channels[restricted.channel].name
    outsider_sees = str(session.channel(OUTSIDER, "C0ANNOUNCE"))
    member_sees = str(session.channel("U01ML1", "C0ANNOUNCE"))
    assert "restricted incident on checkout-assistant" in outsider_sees
    assert "#private-channel" in outsider_sees
    assert name not in outsider_sees
    assert f"#{name}" in member_sees
