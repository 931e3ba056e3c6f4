"""A restricted incident in the weekly review: its follow-ups and its rollbacks' answers
are carried as a flag, never as words, and told as "restricted incident on <service>"
in Slack and the terminal; an open incident's are told as before."""

from __future__ import annotations

import json
from typing import Any

from bot.reviews.digest import Digest, weekly_digest
from bot.reviews.payload import from_payload, to_payload
from bot.reviews.render import digest_blocks, digest_text
from bot.store.tables import FollowUp, Incident, Rollback
from tests.unit.test_review_digest import BERLIN, NOW, WEEK, in_week, incident, rollback

SECRET_FOLLOWUP = "Email customer 4711 (jane@example.com) about her basket"
SECRET_ANSWER = "rollback refused: basket of customer 4711 still locked"
OPEN_FOLLOWUP = "Add a canary"


def followup(of: Incident, text: str) -> FollowUp:
    """An open follow-up of `of`, recorded in the week."""
    assert of.id is not None
    return FollowUp(
        id=of.id,
        incident_id=of.id,
        text=text,
        owner="U01DA1",
        created_by="U0OTHER",
        created_at=in_week(0, 5),
    )


def failed_rollback(of: Incident, message: str) -> Rollback:
    """A failed rollback of `of` in the week, with the receiver's answer."""
    found = rollback(in_week(0, 2), state="failed")
    found.incident_id = of.id
    found.message = message
    return found


def restricted_incident() -> Incident:
    """A P1 on the `pii` checkout assistant, declared in the week."""
    found = incident(in_week(0))
    found.restricted = True
    found.title = "Customer 4711 sees another basket"
    return found


def week_with(
    incidents: list[Incident],
    followups: list[FollowUp],
    rollbacks: list[Rollback],
    restricted: dict[int, str | None] | None = None,
) -> Digest:
    """The week's digest over these rows."""
    named = {f.incident_id for f in followups} | {i.id for i in incidents if i.id is not None}
    return weekly_digest(
        week=WEEK,
        zone=BERLIN,
        incidents=incidents,
        rollbacks=rollbacks,
        followups=followups,
        refs={n: f"INC-{n}" for n in named},
        now=NOW,
        restricted=restricted,
    )


def slack_text(found: Digest) -> str:
    """Every mrkdwn text of the review's blocks and its fallback, joined."""
    fallback, blocks = digest_blocks(found)
    texts = [fallback]
    for block in blocks:
        data: dict[str, Any] = block.to_dict()
        if "text" in data:
            texts.append(data["text"]["text"])
        texts += [e["text"] for e in data.get("elements", []) if "text" in e]
    return "\n".join(texts)


def test_a_restricted_incidents_follow_up_and_rollback_answer_are_flagged_not_carried() -> None:
    """The facts hold the flag and the service, and no word of the text or answer."""
    hidden = restricted_incident()
    found = week_with(
        [hidden], [followup(hidden, SECRET_FOLLOWUP)], [failed_rollback(hidden, SECRET_ANSWER)]
    )
    [said] = found.followups
    assert (said.restricted, said.text, said.service) == (True, "", "checkout-assistant")
    [answered] = found.rollbacks
    assert (answered.restricted, answered.message, answered.state) == (True, "", "failed")


def test_the_review_row_carries_no_word_of_a_restricted_incident() -> None:
    """The outbox row's JSON has neither the text nor the answer (nor the title), no
    `text`/`message` key at all for them, and reads back to the same digest."""
    hidden = restricted_incident()
    found = week_with(
        [hidden], [followup(hidden, SECRET_FOLLOWUP)], [failed_rollback(hidden, SECRET_ANSWER)]
    )
    payload = to_payload(found)
    row = json.dumps(payload)
    for words in ("4711", "jane@example.com", "basket"):
        assert words not in row
    [said] = payload["followups"]
    assert "text" not in said
    assert said["restricted"] is True
    [answered] = payload["rollbacks"]
    assert "message" not in answered
    assert answered["restricted"] is True
    assert from_payload(json.loads(row)) == found


def test_slack_and_the_terminal_tell_a_restricted_incidents_items_by_the_restricted_line() -> None:
    """Slack: `INC-1: :lock: restricted incident on checkout-assistant`, and the failed
    rollback ends the same way; the terminal says the same without the emoji."""
    hidden = restricted_incident()
    found = week_with(
        [hidden], [followup(hidden, SECRET_FOLLOWUP)], [failed_rollback(hidden, SECRET_ANSWER)]
    )
    slack = slack_text(found)
    assert f"{hidden.ref}: :lock: restricted incident on checkout-assistant (<@U01DA1>" in slack
    assert f"failed (by <@U01ML1>, {hidden.ref}, " in slack
    assert ": :lock: restricted incident on checkout-assistant\n" in slack + "\n"
    terminal = digest_text(found)
    assert f"  - {hidden.ref}: restricted incident on checkout-assistant (U01DA1, open " in terminal
    for shown in (slack, terminal):
        assert "4711" not in shown
        assert "basket" not in shown


def test_a_restricted_incident_outside_the_reviewed_window_is_still_restricted() -> None:
    """An old restricted incident's open follow-up (the incident not among the week's)
    is flagged from `restricted`; an open incident's follow-up is told as typed."""
    public = incident(in_week(0))
    assert public.id is not None
    old_id = 9000
    old = FollowUp(
        incident_id=old_id,
        text=SECRET_FOLLOWUP,
        owner="U01DA1",
        created_by="U0OTHER",
        created_at=in_week(0, 1),
    )
    found = week_with(
        [public],
        [old, followup(public, OPEN_FOLLOWUP)],
        [],
        restricted={old_id: "checkout-assistant"},
    )
    assert [(f.incident, f.restricted, f.text) for f in found.followups] == [
        (f"INC-{old_id}", True, ""),
        (public.ref, False, OPEN_FOLLOWUP),
    ]
    slack = slack_text(found)
    assert f"INC-{old_id}: :lock: restricted incident on checkout-assistant" in slack
    assert f"{public.ref}: {OPEN_FOLLOWUP} (<@U01DA1>" in slack
    assert "4711" not in slack


def test_an_open_incidents_failed_rollback_still_quotes_the_receivers_answer() -> None:
    """Nothing changes for an incident that is not restricted."""
    public = incident(in_week(0))
    found = week_with([public], [], [failed_rollback(public, "HTTP 500: & <no> luck")])
    [answered] = found.rollbacks
    assert (answered.restricted, answered.message) == (False, "HTTP 500: & <no> luck")
    assert "failed" in slack_text(found)
    assert ": HTTP 500: &amp; &lt;no&gt; luck" in slack_text(found)
    assert to_payload(found)["rollbacks"][0]["message"] == "HTTP 500: & <no> luck"
