"""Declaring an incident, end to end: signed request in, Slack calls out."""

from __future__ import annotations

from bot.sandbox.fake import FakeSlack
from tests.harness import Firebell


def _declared_channel(fake: FakeSlack, name: str) -> str:
    channel = fake.wait_for(lambda: fake.channel_by_name(name))
    return channel.id


def test_declare_p1_opens_channel_pins_main_message_and_pages_owning_team(
    firebell: Firebell, fake: FakeSlack
) -> None:
    """A P1 on a service gets its channel, pinned main message, announcement and DMs."""
    response = firebell.slack.command(
        "declare P1 Checkout answers are wrong service:checkout-assistant", user_id="U0OTHER"
    )
    assert response.status_code == 200
    assert "INC-1" in response.json()["text"]

    channel = _declared_channel(fake, "inc-1-checkout-answers-are-wrong")

    def members() -> set[str]:
        found = fake.channel_by_name("inc-1-checkout-answers-are-wrong")
        return found.members if found and {"U0OTHER", "U01MLLEAD"} <= found.members else set()

    assert "U01ML1" in fake.wait_for(members)
    assert "U01DA1" not in members()  # consulted teams are not paged for owning_team
    main = fake.wait_for(lambda: fake.messages_in(channel))[0]
    labels = [
        e["text"]["text"] for b in main.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert labels == ["Acknowledge", "Escalate", "Resolve", "Runbook"]  # a runbook fits
    fake.wait_for(lambda: (channel, main.ts) in fake.pins)
    dm = fake.wait_for(lambda: fake.dms_to("U01MLLEAD"))[0]
    assert "INC-1" in dm.text
    assert any(b["type"] == "actions" for b in dm.blocks)
    fake.wait_for(lambda: fake.messages_in("C0ANNOUNCE"))
    paging = fake.wait_for(lambda: [m for m in fake.messages_in(channel) if "Paging" in m.text])
    assert "<@U01MLLEAD>" in paging[0].text
