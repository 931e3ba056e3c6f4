"""Restricted incidents end to end: an incident on a `pii` service gets a private channel
with its responders in it, and everything outside that channel (announcements, the
informed team's channel, pages, `/incident list` and `show`, the short postmortem)
says only "INC-n (P1) restricted incident on <service>"; and past the storm budget the
groups of a `pii` service go to a restricted storm incident, never the public one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.config.model import Config
from bot.integrations.model import AlertFacts, Notification
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import AlertNotification, Incident
from tests.e2e.scenario import (
    SERVICE,
    TITLE,
    Declared,
    answer_text,
    current,
    declare,
    incident,
    ml_on_call,
    posts_in,
    shown_text,
    wait_declared,
    wait_delivered,
)
from tests.harness import Firebell
from tests.usecases.steps import ingest_stored

DESCRIPTION_WORDS = "customer 4711 saw someone else's basket"
OUTSIDER = "U01PR1"  # Product: informed of the model area, never invited
DECLARER = "U0OTHER"


def line(declared: Declared, severity: str = "P1") -> str:
    """`INC-1 (P1) restricted incident on checkout-assistant`."""
    return f"{declared.ref} ({severity}) restricted incident on {SERVICE}"


def with_classification(config: Config, classification: str) -> Config:
    """`config` with the checkout assistant classified as `classification`."""
    service = config.services[SERVICE].model_copy(update={"classification": classification})
    return config.model_copy(update={"services": {**config.services, SERVICE: service}})


@pytest.fixture
def config(config: Config) -> Config:
    """The e2e config with the checkout assistant handling personal data (`pii`)."""
    return with_classification(config, "pii")


@pytest.fixture
def restricted(firebell: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """A P1 on the `pii` checkout assistant, declared by U0OTHER, every message delivered."""
    found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}", user=DECLARER)
    wait_delivered(fake, store)
    return found


def everything_outside(fake: FakeSlack, declared: Declared) -> list[str]:
    """Every word the bot posted anywhere but the incident channel."""
    return [
        shown_text(m)
        for m in fake.messages
        if m.channel != declared.channel and m.user != DECLARER and not m.deleted
    ]


def test_a_pii_service_incident_gets_a_private_channel_with_its_responders_in_it(
    fake: FakeSlack, store: Store, config: Config, restricted: Declared
) -> None:
    """conversations.create with is_private; the declarer, the paged and the R team are
    members; the informed Product member is not."""
    stored = incident(store, restricted.number)
    assert stored is not None
    assert stored.restricted is True
    created = fake.calls_to("conversations.create")
    assert [c.params.get("is_private") for c in created] in (["true"], [True], ["1"])
    channel = fake.channels[restricted.channel]
    assert channel.is_private
    assert {DECLARER, ml_on_call(config), "U01ML1", "U01ML2", "U01MLLEAD"} <= channel.members
    assert OUTSIDER not in channel.members


def test_inside_the_channel_everything_is_shown_as_usual(
    firebell: Firebell, restricted: Declared
) -> None:
    """The pinned main message and `/incident show` in the channel carry the title."""
    assert restricted.main.blocks[0]["text"]["text"].startswith(f"{restricted.ref} · P1 · {TITLE}")
    answer = firebell.slack.command(
        f"show {restricted.ref}", user_id="U01ML1", channel_id=restricted.channel
    )
    body = answer.json()
    assert TITLE in str(body)
    assert "*Timeline*" in str(body)


def test_announcements_mirrors_and_pages_show_only_the_restricted_line(
    fake: FakeSlack, config: Config, restricted: Declared
) -> None:
    """C0ANNOUNCE, the informed Product channel and each page DM: the line, no title."""
    announced = [shown_text(m) for m in fake.messages_in("C0ANNOUNCE")]
    product = [shown_text(m) for m in fake.messages_in("C0PRODUCT")]
    assert len(announced) == 1
    assert line(restricted) in announced[0]
    assert len(product) == 1
    assert line(restricted) in product[0]
    pages = [shown_text(m) for m in fake.dms_to(ml_on_call(config))]
    assert pages
    assert all("restricted incident on checkout-assistant" in p for p in pages)
    assert any("Acknowledge" in p for p in pages)
    assert any(f"<#{restricted.channel}>" in p for p in pages)
    outside = everything_outside(fake, restricted)
    assert outside
    assert not [text for text in outside if TITLE in text]


def test_an_outsider_sees_only_the_restricted_line_in_list_and_show(
    firebell: Firebell, restricted: Declared
) -> None:
    """`/incident list` and `show` typed elsewhere: the line, neither title nor timeline."""
    listed = answer_text(firebell.slack.command("list", user_id=OUTSIDER))
    assert line(restricted) in listed
    assert TITLE not in listed
    shown = firebell.slack.command(f"show {restricted.ref}", user_id=OUTSIDER)
    assert shown.status_code == 200
    body = str(shown.json())
    assert line(restricted) in body
    assert TITLE not in body
    assert "Timeline" not in body


def test_a_member_sees_everything_in_the_channel_list(
    firebell: Firebell, restricted: Declared
) -> None:
    """`/incident list` typed in the incident channel (only members can) shows the title."""
    listed = answer_text(
        firebell.slack.command("list", user_id="U01ML2", channel_id=restricted.channel)
    )
    assert TITLE in listed


def test_status_updates_and_the_resolution_stay_out_of_every_copy_outside(
    firebell: Firebell, fake: FakeSlack, store: Store, restricted: Declared
) -> None:
    """A status and the resolve summary refresh the copies outside to the line and the
    state only; the short postmortem in the announcements is the line, the full one in
    the channel tells everything."""
    firebell.slack.command(
        f"status {DESCRIPTION_WORDS}", user_id="U01ML1", channel_id=restricted.channel
    )
    answer = answer_text(
        firebell.slack.command(
            "resolve Reverted the basket cache", user_id="U01MLLEAD", channel_id=restricted.channel
        )
    )
    assert "resolved" in answer
    wait_delivered(fake, store)

    outside = everything_outside(fake, restricted)
    for words in (TITLE, DESCRIPTION_WORDS, "Reverted the basket cache"):
        assert not [text for text in outside if words in text], words
    announced = [shown_text(m) for m in fake.messages_in("C0ANNOUNCE")]
    assert len(announced) == 2
    assert "State: resolved" in announced[0]
    assert f"{line(restricted)}* is resolved" in announced[1]
    assert "postmortem summary and timeline are in its private channel" in announced[1]
    inside = "\n".join(posts_in(fake, restricted.channel))
    assert "Reverted the basket cache" in inside
    assert TITLE in inside


def test_a_classification_changed_later_never_opens_up_a_restricted_incident(
    launch: Callable[[Config], Firebell], config: Config, restricted: Declared
) -> None:
    """A replica whose config says `internal` still shows the incident as restricted."""
    relaxed = launch(with_classification(config, "internal"))
    listed = answer_text(relaxed.slack.command("list", user_id=OUTSIDER))
    assert line(restricted) in listed
    assert TITLE not in listed


def test_an_incident_on_an_internal_service_is_public_as_before(
    launch: Callable[[Config], Firebell], config: Config, fake: FakeSlack, store: Store
) -> None:
    """Classification `internal`: a public channel, the title in the announcement."""
    app = launch(with_classification(config, "internal"))
    declared = declare(app, fake, store, f"P1 {TITLE} service:{SERVICE}")
    wait_delivered(fake, store)
    assert not fake.channels[declared.channel].is_private
    assert TITLE in shown_text(fake.messages_in("C0ANNOUNCE")[0])


def test_an_alert_on_a_pii_service_opens_a_restricted_incident(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config
) -> None:
    """The alert's incident is restricted as a person's would be: private channel, and
    neither its alert name nor its summary outside it."""
    alert = AlertFacts(
        fingerprint="a1",
        status="firing",
        labels={"alertname": "BasketLeak", "service": SERVICE, "severity": "critical"},
        annotations={"summary": DESCRIPTION_WORDS},
        starts_at=datetime.now(UTC),
        ends_at=None,
        generator_url=None,
    )
    notification = Notification(
        source="alertmanager",
        group_key='{}:{alertname="BasketLeak"}',
        status="firing",
        alerts=(alert,),
    )
    assert ingest_stored(store, config, notification).outcome == "opened"
    declared = wait_declared(fake, store, 1)
    wait_delivered(fake, store)

    assert fake.channels[declared.channel].is_private
    assert "BasketLeak" in shown_text(declared.main)
    outside = everything_outside(fake, declared)
    assert any(line(declared, "P1") in text for text in outside)  # `critical` is P1
    for words in ("BasketLeak", DESCRIPTION_WORDS):
        assert not [text for text in outside if words in text], words


PUBLIC_SERVICE = "catalog-search"  # an `internal` service of the model area


@pytest.fixture
def storming(config: Config) -> Config:
    """The pii config plus an `internal` service, a storm budget of one incident a
    minute, and no attaching to a service's open incident (every group is new)."""
    public = config.services[SERVICE].model_copy(update={"classification": "internal"})
    alerts = config.alerts.model_copy(
        update={"max_new_incidents_per_minute": 1, "attach_to_open": False}
    )
    return config.model_copy(
        update={"services": {**config.services, PUBLIC_SERVICE: public}, "alerts": alerts}
    )


def group_of(key: str, service: str, name: str, summary: str) -> Notification:
    """A new firing group of one `critical` alert of `service`."""
    alert = AlertFacts(
        fingerprint=f"{key}-1",
        status="firing",
        labels={"alertname": name, "service": service, "severity": "critical"},
        annotations={"summary": summary},
        starts_at=datetime.now(UTC),
        ends_at=None,
        generator_url=None,
    )
    return Notification(
        source="alertmanager", group_key=f'{{}}:{{group="{key}"}}', status="firing", alerts=(alert,)
    )


def by_id(store: Store, incident_id: int) -> Incident:
    """The incident with database id `incident_id`."""
    found = store.call(lambda s: s.get(Incident, incident_id))
    assert found is not None
    return found


def test_a_pii_group_during_a_public_storm_goes_to_a_restricted_storm_of_its_own(
    launch: Callable[[Config], Firebell], storming: Config, fake: FakeSlack, store: Store
) -> None:
    """Past the budget, the public groups share the public storm and the pii groups a
    private one: the pii alert names and summaries reach neither the public storm's
    channel nor anywhere outside the private storm's."""
    launch(storming)
    first = ingest_stored(store, storming, group_of("g1", PUBLIC_SERVICE, "SearchSlow", "p95 up"))
    public = ingest_stored(store, storming, group_of("g2", PUBLIC_SERVICE, "SearchDown", "5xx"))
    pii = ingest_stored(store, storming, group_of("g3", SERVICE, "BasketLeak", DESCRIPTION_WORDS))
    again = ingest_stored(store, storming, group_of("g4", SERVICE, "CardEcho", "card shown"))
    later = ingest_stored(store, storming, group_of("g5", PUBLIC_SERVICE, "IndexStale", "old"))

    assert [r.outcome for r in (first, public, pii, again, later)] == ["opened"] + ["storm"] * 4
    assert pii.incident_id is not None
    assert public.incident_id is not None
    assert pii.incident_id != public.incident_id
    assert again.incident_id == pii.incident_id
    assert later.incident_id == public.incident_id
    public_storm, private_storm = by_id(store, public.incident_id), by_id(store, pii.incident_id)
    assert (public_storm.origin, public_storm.restricted) == ("storm", False)
    assert (private_storm.origin, private_storm.restricted) == ("storm", True)
    assert public_storm.number is not None
    assert private_storm.number is not None
    public_declared = wait_declared(fake, store, public_storm.number)
    private_declared = wait_declared(fake, store, private_storm.number)
    wait_delivered(fake, store)

    assert not fake.channels[public_declared.channel].is_private
    assert fake.channels[private_declared.channel].is_private
    assert "BasketLeak" in shown_text(current(fake, private_declared.main))
    public_main = shown_text(current(fake, public_declared.main))
    assert "SearchDown" in public_main
    assert "IndexStale" in public_main
    outside = everything_outside(fake, private_declared)
    assert outside
    for words in ("BasketLeak", "CardEcho", DESCRIPTION_WORDS, "card shown"):
        assert not [text for text in outside if words in text], words


def test_pii_groups_past_the_budget_at_once_open_one_restricted_storm(
    launch: Callable[[Config], Firebell], storming: Config, fake: FakeSlack, store: Store
) -> None:
    """Two new pii groups arrive together once the budget is spent: the storm lock lets
    one open the restricted storm and the other join it."""
    launch(storming)
    assert ingest_stored(store, storming, group_of("g1", PUBLIC_SERVICE, "A", "a")).outcome == (
        "opened"
    )
    start = threading.Barrier(2)
    rows: list[AlertNotification] = []

    def send(key: str) -> None:
        start.wait(timeout=5)
        rows.append(ingest_stored(store, storming, group_of(key, SERVICE, f"Leak{key}", "x")))

    threads = [threading.Thread(target=send, args=(key,)) for key in ("g2", "g3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert [r.outcome for r in rows] == ["storm", "storm"]
    assert len({r.incident_id for r in rows}) == 1
    storms = store.call(
        lambda s: list(s.execute(select(Incident).where(col(Incident.origin) == "storm")).scalars())
    )
    assert [(i.restricted, i.state) for i in storms] == [(True, "open")]
    wait_delivered(fake, store)
