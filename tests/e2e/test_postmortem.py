"""The postmortem summary end to end: resolve posts it where it belongs, `/incident
postmortem` posts it again, `firebell export` writes it as Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.sandbox.fake import FakeSlack, Message
from bot.store.db import Store
from tests.conftest import TEST_CONFIG
from tests.e2e.scenario import (
    SERVICE,
    Declared,
    add_notes,
    answer_text,
    declare,
    shown_text,
    wait_delivered,
)
from tests.harness import Firebell


def run(firebell: Firebell, text: str, *, where: str, user: str = "U01ML1") -> str:
    """Run `/incident <text>` in channel `where` and return the ephemeral answer."""
    return answer_text(firebell.slack.command(text, user_id=user, channel_id=where))


def summaries(fake: FakeSlack, channel: str) -> list[Message]:
    """The full postmortem summaries posted in `channel`."""
    return [m for m in fake.messages_in(channel) if "*Timeline*" in shown_text(m)]


def short_summaries(fake: FakeSlack, channel: str, ref: str) -> list[Message]:
    """The short summaries of `ref` posted in `channel`."""
    return [
        m
        for m in fake.messages_in(channel)
        if m.text.startswith(f":white_check_mark: *{ref} resolved*:")
    ]


def test_resolve_posts_the_full_summary_and_the_short_ones(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A P1 (owning_team): the full summary in the incident channel, the short one in the
    announcements channel and in the informed Product team's channel, each once."""
    run(firebell, "status Prices wrong since <!here> 14:00", where=declared.channel)
    run(firebell, "resolve Prompt rolled back", where=declared.channel)
    wait_delivered(fake, store)

    [full] = summaries(fake, declared.channel)
    text = shown_text(full)
    assert full.text.startswith(f":white_check_mark: *{declared.ref} resolved* by <@U01ML1>")
    assert "Summary: Prompt rolled back" in full.text
    assert "Time to acknowledge:" in full.text
    for part in ("*Response*", "*Owners*", "*Paging*", "*Status updates*", "*Timeline*"):
        assert part in text
    assert "&lt;!here&gt;" in text
    assert "<!here>" not in text
    for channel in ("C0ANNOUNCE", "C0PRODUCT"):
        [short] = short_summaries(fake, channel, declared.ref)
        assert f"<#{declared.channel}>" in shown_text(short)


def test_a_p2_summary_is_not_announced_but_reaches_informed_teams(
    firebell: Firebell, fake: FakeSlack, store: Store
) -> None:
    """A P2 (owner scope) is told to the informed team's channel, not to announcements."""
    p2 = declare(firebell, fake, store, f"P2 Checkout is slow service:{SERVICE}")
    run(firebell, "resolve", where=p2.channel)
    wait_delivered(fake, store)

    assert len(summaries(fake, p2.channel)) == 1
    assert short_summaries(fake, "C0ANNOUNCE", p2.ref) == []
    assert len(short_summaries(fake, "C0PRODUCT", p2.ref)) == 1


def test_postmortem_command_posts_the_summary_again_after_resolve(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """`/incident postmortem` in a resolved incident's channel posts the summary again."""
    run(firebell, "resolve", where=declared.channel)
    wait_delivered(fake, store)

    answer = run(firebell, "postmortem", where=declared.channel, user="U01MLLEAD")
    assert answer.startswith(f"Posting the postmortem summary of {declared.ref} in <#")
    wait_delivered(fake, store)
    assert len(summaries(fake, declared.channel)) == 2
    assert len(short_summaries(fake, "C0ANNOUNCE", declared.ref)) == 1


def test_postmortem_command_works_before_resolve(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """Before the resolve the summary says the incident is not resolved yet."""
    answer = run(firebell, "postmortem", where=declared.channel)
    assert "not resolved yet" in answer
    wait_delivered(fake, store)
    [draft] = summaries(fake, declared.channel)
    assert draft.text.startswith(f":memo: *{declared.ref} postmortem summary* (open")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    """The test database and config in the environment, no `.env` in reach."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(TEST_CONFIG))
    return tmp_path


def test_export_writes_the_markdown_postmortem_to_a_file(
    firebell: Firebell,
    fake: FakeSlack,
    declared: Declared,
    environment: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell export INC-1 -o FILE` writes the postmortem with the team's sections."""
    run(firebell, "resolve Prompt rolled back", where=declared.channel)
    wait_delivered(fake, firebell.runtime.store)

    out = environment / "INC-1.md"
    assert main(["export", declared.ref, "-o", str(out)]) == 0
    document = out.read_text(encoding="utf-8")
    assert document.startswith(f"# {declared.ref}: Checkout answers are wrong\n")
    for section in (
        "## Impact",
        "## Root cause",
        "## What went well",
        "## What went badly",
        "## Where we got lucky",
        "## Follow-ups",
        "## Timeline",
    ):
        assert f"\n{section}\n" in document
    assert "Prompt rolled back" in document
    assert main(["export", declared.ref.lower()]) == 0
    assert capsys.readouterr().out == document


def test_export_of_an_unknown_incident_fails_with_one_line(
    store: Store, environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An incident the database does not have: one line on stderr, exit status 1."""
    assert main(["export", "INC-99"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "no incident INC-99" in error
    assert main(["export", "ninety-nine"]) == 2


def test_a_summary_of_1000_timeline_entries_is_posted_within_slacks_limits(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """1,000 entries, some as long as a note may be: Slack takes the summary (the fake
    refuses what Slack would), which counts the entries it leaves out and links."""
    add_notes(store, declared, 1000)
    run(firebell, "resolve Fixed", where=declared.channel)
    wait_delivered(fake, store)

    [full] = summaries(fake, declared.channel)
    assert len(full.blocks) <= 50
    assert len(full.text) <= 40_000
    text = shown_text(full)
    assert "more entries: `/incident timeline`" in text
    assert "note-0999-" in text
    assert short_summaries(fake, "C0ANNOUNCE", declared.ref)
