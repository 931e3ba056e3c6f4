"""`/incident` subcommands, end to end: signed command in, answer and Slack calls out."""

from __future__ import annotations

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import (
    SERVICE,
    TITLE,
    Declared,
    ack_and_resolve,
    answer_text,
    buttons,
    current,
    declare,
    entries,
    incident,
    incident_count,
    ml_on_call,
    posts_in,
    shown_text,
    wait_delivered,
)
from tests.harness import Firebell


def run(firebell: Firebell, text: str, *, where: str, user: str = "U01ML1") -> str:
    """Run `/incident <text>` in channel `where` and return the ephemeral answer."""
    return answer_text(firebell.slack.command(text, user_id=user, channel_id=where))


def test_ack_records_who_and_when_and_updates_the_main_message(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident ack` acknowledges as the caller, posts it and refreshes the main message."""
    answer = run(firebell, "ack", where=declared.channel, user="U01ML2")
    assert answer == f"You acknowledged {declared.ref}. Escalation stopped."

    acked = incident(store, declared.number)
    assert acked is not None
    assert (acked.state, acked.acknowledged_by) == ("acknowledged", "U01ML2")
    assert acked.acknowledged_at is not None
    assert acked.acknowledged_at >= acked.declared_at
    fake.wait_for(lambda: "Acknowledge" not in buttons(current(fake, declared.main)))
    main = current(fake, declared.main)
    assert "*Acknowledged*\n<@U01ML2>" in shown_text(main)
    assert ack_and_resolve(main) == ["Resolve"]
    fake.wait_for(
        lambda: any(
            t.startswith(f":white_check_mark: <@U01ML2> acknowledged {declared.ref} after")
            for t in posts_in(fake, declared.channel)
        )
    )
    assert [e.kind for e in entries(store, declared.id)][-1] == "acknowledged"


def test_second_ack_command_is_idempotent_and_says_who_had_it(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A second `/incident ack` changes nothing and names who acknowledged first."""
    run(firebell, "ack", where=declared.channel, user="U01ML2")
    wait_delivered(fake, store)
    posts_before = posts_in(fake, declared.channel)

    answer = run(firebell, "ack", where=declared.channel, user="U01MLLEAD")

    assert answer == f"{declared.ref} was already acknowledged by <@U01ML2>."
    again = incident(store, declared.number)
    assert again is not None
    assert again.acknowledged_by == "U01ML2"
    wait_delivered(fake, store)
    assert posts_in(fake, declared.channel) == posts_before
    assert [e.kind for e in entries(store, declared.id)].count("acknowledged") == 1


def test_sev_raises_severity_pages_the_new_scope_and_updates_every_copy(
    firebell: Firebell, fake: FakeSlack, store: Store, config: Config, declared: Declared
) -> None:
    """`/incident sev P0` pages the consulted team and updates main message and announcement."""
    assert fake.dms_to("U01DA1") == []

    answer = run(firebell, "sev P0", where=declared.channel)

    assert answer == f"{declared.ref} is now P0."
    wait_delivered(fake, store)
    changed = incident(store, declared.number)
    assert changed is not None
    assert changed.severity == "P0"
    dm = fake.dms_to("U01DA1")
    assert len(dm) == 1
    assert "severity raised to P0" in dm[0].text
    posts = posts_in(fake, declared.channel)
    assert any("from P1 to P0" in t for t in posts)
    assert any(t.startswith(":rotating_light: Paging") and "<@U01DA1>" in t for t in posts[2:])
    # Those paged at declaration are not paged again.
    assert len(fake.dms_to(ml_on_call(config))) == 1
    assert (
        current(fake, declared.main).blocks[0]["text"]["text"].startswith(f"{declared.ref} · P0 ·")
    )
    announcements = fake.messages_in("C0ANNOUNCE")
    assert len(announcements) == 1
    assert announcements[0].blocks[0]["text"]["text"].startswith(f"{declared.ref} · P0 ·")


def test_sev_with_a_bad_level_says_which_levels_exist(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """`/incident sev P9` is refused with the valid levels and an example."""
    answer = run(firebell, "sev P9", where=declared.channel)
    assert "'P9' is not a severity" in answer
    assert "P0, P1, P2, P3" in answer
    assert "`/incident sev P1`" in answer
    still = incident(store, declared.number)
    assert still is not None
    assert still.severity == "P1"

    assert "Usage: `/incident sev <P0-P3>`" in run(firebell, "sev", where=declared.channel)


def test_lead_sets_the_lead_invites_them_and_shows_them_on_the_main_message(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident lead @user` makes them lead, invites them and shows them as Lead."""
    answer = run(firebell, "lead <@U01PL1|platform-one>", where=declared.channel)

    assert answer == f"<@U01PL1> now leads {declared.ref}."
    wait_delivered(fake, store)
    led = incident(store, declared.number)
    assert led is not None
    assert led.lead == "U01PL1"
    channel = fake.channels[declared.channel]
    assert "U01PL1" in channel.members
    assert "*Lead*\n<@U01PL1>" in shown_text(current(fake, declared.main))
    assert any("made <@U01PL1> the incident lead" in t for t in posts_in(fake, declared.channel))


def test_lead_without_a_mention_says_to_mention_someone(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """`/incident lead bob` explains that a mention is needed, with an example."""
    answer = run(firebell, "lead bob", where=declared.channel)
    assert answer == ":warning: Mention the new lead. Usage: `/incident lead <@user>`"
    unchanged = incident(store, declared.number)
    assert unchanged is not None
    assert unchanged.lead is None


def test_note_adds_a_timeline_entry_that_show_lists(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident note` adds to the timeline without posting; `/incident show` lists it."""
    posts_before = posts_in(fake, declared.channel)

    answer = run(firebell, "note Rolled back the prompt change", where=declared.channel)

    assert answer == f"Added to the timeline of {declared.ref}."
    note = entries(store, declared.id)[-1]
    assert (note.kind, note.actor) == ("note", "U01ML1")
    assert note.data == {"text": "Rolled back the prompt change"}
    shown = firebell.slack.command(f"show {declared.ref}", channel_id="C0GENERAL").json()
    assert "Rolled back the prompt change" in str(shown["blocks"])
    wait_delivered(fake, store)
    assert posts_in(fake, declared.channel) == posts_before

    empty = run(firebell, "note", where=declared.channel)
    assert "Say what the note is" in empty
    assert "`/incident note " in empty


def test_a_note_that_mentions_payload_is_added_like_any_other(
    firebell: Firebell, store: Store, declared: Declared
) -> None:
    """A command whose text contains the word `payload` still reaches its listener."""
    answer = run(firebell, "note payload service is slow", where=declared.channel)

    assert answer == f"Added to the timeline of {declared.ref}."
    assert entries(store, declared.id)[-1].data == {"text": "payload service is slow"}


def test_status_posts_an_update_in_the_channel_and_resets_the_reminder(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident status` posts the update in the channel and records when."""
    answer = run(firebell, "status Error rate back to normal, watching", where=declared.channel)

    assert answer == "Status update posted."
    post = fake.wait_for(
        lambda: [t for t in posts_in(fake, declared.channel) if "Status update" in t]
    )
    assert post == [":mega: *Status update* from <@U01ML1>: Error rate back to normal, watching"]
    updated = incident(store, declared.number)
    assert updated is not None
    assert updated.last_status_at is not None
    assert entries(store, declared.id)[-1].kind == "status"


def test_page_a_team_dms_its_people_and_mentions_them_in_the_channel(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident page data` DMs the data team with an Acknowledge button and says so."""
    answer = run(firebell, "page data", where=declared.channel)

    assert answer == "Paging <@U01DA1>."
    wait_delivered(fake, store)
    dm = fake.dms_to("U01DA1")
    assert len(dm) == 1
    assert "paged by <@U01ML1>" in dm[0].text
    assert ack_and_resolve(dm[0]) == ["Acknowledge"]
    assert "U01DA1" in fake.channels[declared.channel].members
    assert any(
        t.startswith(f":rotating_light: Paging for {declared.ref}") and "<@U01DA1>" in t
        for t in posts_in(fake, declared.channel)[2:]
    )


def test_page_a_person_by_mention_dms_them(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident page @user` pages exactly that person."""
    answer = run(firebell, "page <@U01PR1|product-one>", where=declared.channel)
    assert answer == "Paging <@U01PR1>."
    dm = fake.wait_for(lambda: fake.dms_to("U01PR1"))
    assert declared.ref in dm[0].text


def test_page_someone_unknown_says_whom_it_can_page(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident page nobody` lists the teams and how to page a person."""
    answer = run(firebell, "page nobody", where=declared.channel)
    assert "'nobody' is neither a team nor a user" in answer
    assert "`/incident page @someone`" in answer
    assert "data, legal, ml, platform, product" in answer

    usage = run(firebell, "page", where=declared.channel)
    assert "Usage: `/incident page <team or @user>`" in usage


def test_mitigated_moves_the_state_and_implies_acknowledgement(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident mitigated` on an open incident acknowledges it and marks it mitigated."""
    answer = run(firebell, "mitigated", where=declared.channel, user="U01MLLEAD")

    assert answer == f"{declared.ref} is mitigated."
    wait_delivered(fake, store)
    mitigated = incident(store, declared.number)
    assert mitigated is not None
    assert (mitigated.state, mitigated.acknowledged_by) == ("mitigated", "U01MLLEAD")
    assert mitigated.mitigated_at is not None
    posts = posts_in(fake, declared.channel)
    assert any(f"<@U01MLLEAD> marked {declared.ref} mitigated" in t for t in posts)
    main = current(fake, declared.main)
    assert "mitigated" in main.text
    assert ack_and_resolve(main) == ["Resolve"]

    again = run(firebell, "mitigated", where=declared.channel)
    assert "cannot be mitigated" in again
    assert "already mitigated" in again


def test_resolve_posts_the_summary_and_closes_the_incident(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident resolve <summary>` resolves, posts the summary, and refuses later changes."""
    answer = run(firebell, "resolve Prompt rolled back", where=declared.channel)

    assert answer == (
        f"{declared.ref} is resolved; its summary is posted in <#{declared.channel}>."
    )
    wait_delivered(fake, store)
    resolved = incident(store, declared.number)
    assert resolved is not None
    assert (resolved.state, resolved.resolved_by) == ("resolved", "U01ML1")
    assert resolved.summary == "Prompt rolled back"
    summary = [t for t in posts_in(fake, declared.channel) if "resolved*" in t]
    assert len(summary) == 1
    assert "Time to acknowledge:" in summary[0]
    assert "Time to resolve:" in summary[0]
    assert "Summary: Prompt rolled back" in summary[0]
    main = current(fake, declared.main)
    assert ack_and_resolve(main) == []
    assert "Escalate" not in buttons(main)
    assert "*Summary*\nPrompt rolled back" in shown_text(main)

    late = run(firebell, "note one more thing", where=declared.channel)
    assert late == f":warning: {declared.ref} is already resolved, so it takes no more changes."


def test_list_shows_open_incidents_and_not_resolved_ones(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`/incident list` works anywhere and lists open incidents, most severe first."""
    assert run(firebell, "list", where="C0GENERAL") == "No open incidents. :sunny:"
    first = declare(firebell, fake, store, f"P2 Slow answers service:{SERVICE}")
    second = declare(firebell, fake, store, "P0 Everything is down area:infra")

    listing = run(firebell, "list", where="C0GENERAL").splitlines()

    assert listing[0] == "*2 open incidents*"
    assert listing[1].startswith(":red_circle: *INC-2* P0 open · Everything is down")
    assert listing[1].endswith(f"<#{second.channel}>")
    assert listing[2].startswith(":red_circle: *INC-1* P2 open · Slow answers")

    run(firebell, "resolve", where=first.channel)
    listing = run(firebell, "list", where="C0GENERAL").splitlines()
    assert listing[0] == "*1 open incident*"
    assert "INC-1" not in "\n".join(listing)


def test_show_gives_the_incident_with_its_timeline(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident show INC-1` works anywhere and shows facts and timeline, without buttons."""
    response = firebell.slack.command("show inc-1", channel_id="C0GENERAL")

    body = response.json()
    assert body["response_type"] == "ephemeral"
    shown = str(body["blocks"])
    assert f"{declared.ref} · P1 · {TITLE}" in shown
    assert "*Timeline*" in shown
    assert "declared INC-1 (P1)" in shown
    assert "Paged <@" in shown
    assert all(block["type"] != "actions" for block in body["blocks"])


def test_show_of_a_missing_or_malformed_incident_says_what_to_type(
    firebell: Firebell, declared: Declared
) -> None:
    """`/incident show INC-99` and `/incident show banana` each say what to type instead."""
    missing = run(firebell, "show INC-99", where="C0GENERAL")
    assert missing == ":warning: There is no incident INC-99. `/incident list` shows open ones."
    malformed = run(firebell, "show banana", where="C0GENERAL")
    assert "'banana' is not an incident" in malformed
    assert "`INC-7`" in malformed


def test_help_lists_every_subcommand(firebell: Firebell) -> None:
    """`/incident help` lists each subcommand with its syntax."""
    text = run(firebell, "help", where="C0GENERAL")
    for usage in (
        "`/incident`",
        "`/incident declare <P0-P3> <title> [service:<name>] [area:<name>]`",
        "`/incident ack`",
        "`/incident sev <P0-P3>`",
        "`/incident status <text>`",
        "`/incident lead <@user>`",
        "`/incident note <text>`",
        "`/incident page <team or @user>`",
        "`/incident mitigated`",
        "`/incident resolve [summary]`",
        "`/incident list`",
        "`/incident show INC-<n>`",
        "`/incident help`",
    ):
        assert usage in text


def test_channel_subcommands_outside_an_incident_channel_say_where_to_run_them(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Incident-channel subcommands used elsewhere say to run them in the channel."""
    for subcommand in (
        "ack",
        "sev P0",
        "status fine",
        "lead <@U01PL1>",
        "note x",
        "page ml",
        "mitigated",
        "resolve",
    ):
        answer = run(firebell, subcommand, where="C0GENERAL")
        name = subcommand.split()[0]
        assert answer == (
            f":warning: `/incident {name}` works in an incident channel (`#inc-<n>-...`). "
            "Run it there, or use `/incident list` to find the incident."
        )
    unchanged = incident(store, declared.number)
    assert unchanged is not None
    assert (unchanged.state, unchanged.severity, unchanged.lead) == ("open", "P1", None)
    assert [e.kind for e in entries(store, declared.id)] == ["declared", "paged"]


def test_declare_with_a_bad_severity_says_which_levels_exist(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`/incident declare P9 ...` is refused, listing the levels; nothing is created."""
    answer = run(firebell, "declare P9 Checkout is down", where="C0GENERAL")
    assert answer == ":warning: 'P9' is not a severity: use one of P0, P1, P2, P3"
    assert incident_count(store) == 0
    assert fake.calls_to("conversations.create") == []


def test_declare_with_an_unknown_service_lists_the_known_ones(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """`service:nope` is refused, naming the configured services; nothing is created."""
    answer = run(firebell, "declare P1 Checkout is down service:nope", where="C0GENERAL")
    assert answer == ":warning: no service 'nope': use one of checkout-assistant"
    unknown_area = run(firebell, "declare P1 Checkout is down area:nope", where="C0GENERAL")
    assert unknown_area.startswith(":warning: no area 'nope': use one of model, infra, data")
    assert incident_count(store) == 0
    assert fake.calls_to("conversations.create") == []


def test_declare_without_a_title_shows_the_declare_syntax(firebell: Firebell, store: Store) -> None:
    """`/incident declare P1` says a title is needed and shows the full syntax."""
    answer = run(firebell, "declare P1", where="C0GENERAL")
    assert "Say the severity and a title" in answer
    assert "`/incident declare <P0-P3> <title> [service:<name>] [area:<name>]`" in answer
    only_options = run(firebell, f"declare P1 service:{SERVICE}", where="C0GENERAL")
    assert "An incident needs a title" in only_options
    assert "`/incident declare P1 " in only_options
    assert incident_count(store) == 0


def test_unknown_subcommand_points_to_help(firebell: Firebell) -> None:
    """`/incident frobnicate` says it is not a command and to use `/incident help`."""
    answer = run(firebell, "frobnicate now", where="C0GENERAL")
    assert answer == (
        ":warning: `/incident frobnicate` is not a command. `/incident help` lists them all."
    )
