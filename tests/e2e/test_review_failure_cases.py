"""Failure cases reported on `POST /hooks/feedback` reach the weekly review: the post in
the review channel and `firebell review --week` count them by service and kind, set
the agreed failure rate beside them, and quote the newest escaped and cut."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.cli import main
from bot.config.load import load_config
from bot.config.model import Config
from bot.reviews.schedule import WEEKLY_REVIEW
from bot.reviews.week import bounds
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import OutboxMessage
from tests.e2e.scenario import answer_text
from tests.e2e.test_weekly_review import REVIEW_YAML, WEEK, ZONE, plan_row, reviews_in
from tests.harness import post_hook, running
from tests.serving import ROOT

SERVICE = "checkout-assistant"
LOUD = "the bot said <!channel> refunds take 90 days & @here agreed"
# The e2e config ends with the checkout assistant's block: it gains an agreed rate.
SLO_YAML = "    slo: {max_failure_rate: 5%}\n"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The e2e config with an agreed failure rate and the Monday review, on disk."""
    path = tmp_path / "firebell.yaml"
    base = (ROOT / "tests" / "configs" / "e2e.yaml").read_text()
    path.write_text(base + SLO_YAML + REVIEW_YAML)
    return path


@pytest.fixture
def agreed_config(config_file: Path) -> Config:
    """The config that file holds."""
    return load_config(config_file)


def report_the_week(database_url: str, config: Config, fake: FakeSlack) -> None:
    """Four cases inside 2026-W10 (one loud, one long), one the Monday after."""
    start, end = bounds(WEEK, ZoneInfo(ZONE))
    inside = (start + timedelta(days=2)).isoformat()
    batch = [
        {"service": SERVICE, "kind": "wrong_answer", "ref": "conv-1", "text": LOUD, "at": inside},
        {"service": SERVICE, "kind": "wrong_answer", "text": "z" * 2000, "at": inside},
        {"service": SERVICE, "kind": "thumbs_down", "confidence": 0.4, "at": inside},
        {
            "service": SERVICE,
            "kind": "low_confidence",
            "at": (start + timedelta(hours=1)).isoformat(),
        },
        {"service": SERVICE, "kind": "thumbs_down", "at": (end + timedelta(hours=1)).isoformat()},
    ]
    with running(database_url, config, fake) as firebell:
        answer = post_hook(firebell, "feedback", {"events": batch})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ok": True, "kept": 5, "repeated": 0}


def test_the_posted_review_tells_the_weeks_failure_cases(
    database_url: str, store: Store, fake: FakeSlack, agreed_config: Config
) -> None:
    """Cases posted to the hook, then the review fires: its Slack post counts the week's
    four by kind, sets the agreed 5% beside them, and quotes the loud text harmlessly."""
    report_the_week(database_url, agreed_config, fake)
    plan_row(store, due_in=timedelta(seconds=1))
    with running(database_url, agreed_config, fake):
        fake.wait_for(lambda: reviews_in(fake), timeout=10)
    [post] = reviews_in(fake)
    body = "\n".join(block["text"]["text"] for block in post.blocks if "text" in block)
    assert "*Failure cases*" in body
    assert (
        "• 4 failure cases reported on /hooks/feedback: wrong_answer 2, low_confidence 1, "
        "thumbs_down 1"
    ) in body
    assert (
        f"• {SERVICE}: 4 (wrong_answer 2, low_confidence 1, thumbs_down 1); "
        "agreed failure rate at most 5%"
    ) in body
    assert "firebell:slo_failure_ratio:rate1h" in body
    assert (
        "ref conv-1: the bot said &lt;!channel&gt; refunds take 90 days &amp; @\u2060here" in body
    )
    assert "<!channel>" not in body
    assert "z" * 149 + "…" in body
    assert "z" * 150 not in body


@pytest.mark.usefixtures("store")  # an emptied database
def test_firebell_review_prints_the_weeks_failure_cases_and_a_quiet_week(
    database_url: str,
    fake: FakeSlack,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell review --week 2026-W10` lists the cases with the text as typed; the
    week before had none and says so."""
    report_the_week(database_url, load_config(config_file), fake)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(config_file))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
    assert main(["review", "--week", WEEK.label]) == 0
    out = capsys.readouterr().out
    assert (
        "Failure cases\n"
        "  - 4 failure cases reported on /hooks/feedback: wrong_answer 2, low_confidence 1, "
        "thumbs_down 1\n"
        f"  - {SERVICE}: 4 (wrong_answer 2, low_confidence 1, thumbs_down 1); "
        "agreed failure rate at most 5%\n"
    ) in out
    assert f"ref conv-1: {LOUD}\n" in out
    assert "confidence 0.40" in out

    assert main(["review", "--week", "2026-W09"]) == 0
    quiet = capsys.readouterr().out
    assert "Failure cases\n  - No failure cases reported on /hooks/feedback in 2026-W09.\n" in quiet


@pytest.fixture
def pii_file(tmp_path: Path) -> Path:
    """The e2e config with the checkout assistant classified `pii`, and the review."""
    path = tmp_path / "pii.yaml"
    base = (ROOT / "tests" / "configs" / "e2e.yaml").read_text()
    classified = base.replace("classification: internal", "classification: pii", 1)
    assert classified != base
    path.write_text(classified + SLO_YAML + REVIEW_YAML)
    return path


def review_outbox_rows(store: Store) -> list[str]:
    """The JSON payloads of the queued review posts."""
    with store.transaction() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.kind) == WEEKLY_REVIEW)
        return [json.dumps(row.payload) for row in session.execute(query).scalars()]


@pytest.fixture
def pii_cli(database_url: str, pii_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's environment: the test database and the `pii` config."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(pii_file))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")


@pytest.mark.usefixtures("pii_cli")
def test_a_pii_services_cases_are_counted_but_never_quoted_outside_the_terminal(
    database_url: str,
    store: Store,
    fake: FakeSlack,
    pii_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Checkout classified `pii`, cases posted to the hook: `/incident feedback` counts
    them and points to `firebell feedback`; the posted review, its outbox row and
    `firebell review` count them and quote none; `firebell feedback` (an operator's
    terminal) still prints the examples."""
    config = load_config(pii_file)
    report_the_week(database_url, config, fake)
    plan_row(store, due_in=timedelta(seconds=1))
    today = {"service": SERVICE, "kind": "wrong_answer", "ref": "conv-2", "text": "refunds now"}
    with running(database_url, config, fake) as firebell:
        assert post_hook(firebell, "feedback", {"events": [today]}).status_code == 200
        answer = answer_text(firebell.slack.command(f"feedback {SERVICE}", channel_id="C0ANY"))
        fake.wait_for(lambda: reviews_in(fake), timeout=10)
    assert answer.splitlines()[1:] == [
        "wrong_answer 1",
        f"Examples hidden: {SERVICE} is classified pii; "
        f"`firebell feedback --service {SERVICE}` prints them for operators.",
    ]
    [post] = reviews_in(fake)
    body = "\n".join(block["text"]["text"] for block in post.blocks if "text" in block)
    assert (
        f"• {SERVICE}: 4 (wrong_answer 2, low_confidence 1, thumbs_down 1); "
        "agreed failure rate at most 5%; examples hidden: classified pii"
    ) in body
    [row] = review_outbox_rows(store)
    assert main(["review", "--week", WEEK.label]) == 0
    printed = capsys.readouterr().out
    assert "examples hidden: classified pii\n" in printed
    for shown in (answer, body, row, printed):
        assert "Latest" not in shown
        assert "conv-" not in shown
        assert "refunds" not in shown
        assert "zzz" not in shown
    assert main(["feedback", "--since", "7d", "--service", SERVICE]) == 0
    operator = capsys.readouterr().out
    assert "ref conv-2" in operator
    assert "      refunds now" in operator
