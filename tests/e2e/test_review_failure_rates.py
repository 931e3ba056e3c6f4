"""With `prometheus_url` set, the posted review and `firebell review --week` tell each
service's measured failure rate of that week against the agreed one, asked of a real
HTTP Prometheus query API at the week's end; a Prometheus that cannot be reached leaves
today's count and agreed rate, saying it did not answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config.load import load_config
from bot.reviews.week import bounds
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.e2e.test_review_failure_cases import (
    SERVICE,
    SLO_YAML,
    report_the_week,
    review_outbox_rows,
)
from tests.e2e.test_weekly_review import REVIEW_YAML, WEEK, ZONE, plan_row, reviews_in
from tests.harness import running
from tests.serving import ROOT, free_port
from tests.slo.fakeprom import FakePrometheus, checkout_queries

COUNTED = f"{SERVICE}: 4 (wrong_answer 2, low_confidence 1, thumbs_down 1)"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The e2e config with checkout's agreed 5% failure rate and the Monday review."""
    path = tmp_path / "firebell.yaml"
    base = (ROOT / "tests" / "configs" / "e2e.yaml").read_text()
    path.write_text(base + SLO_YAML + REVIEW_YAML)
    return path


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    """A fake Prometheus that measured checkout failing 3.2% of answers over 7 days."""
    fake = FakePrometheus({checkout_queries()["failure_7d"]: 0.032}).start()
    yield fake
    fake.stop()


@pytest.fixture
def review_week(
    database_url: str,
    fake: FakeSlack,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[str], str]:
    """`firebell review --week` with `prometheus_url` set, after the week's cases were
    reported: what it printed."""

    def review(prometheus_url: str) -> str:
        report_the_week(database_url, load_config(config_file), fake)
        with_url = config_file.with_name("prometheus.yaml")
        with_url.write_text(config_file.read_text() + f"prometheus_url: {prometheus_url}\n")
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("FIREBELL_CONFIG", str(with_url))
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
        assert main(["review", "--week", WEEK.label]) == 0
        return capsys.readouterr().out

    return review


@pytest.mark.usefixtures("store")  # an emptied database
def test_firebell_review_shows_the_weeks_measured_failure_rate_against_the_agreed_one(
    review_week: Callable[[str], str], prometheus: FakePrometheus
) -> None:
    """Prometheus measured 3.2% over the 7-day week, asked at the week's end: the
    checkout line shows it kept against at most 5%, without the "measured by" note."""
    out = review_week(prometheus.url)
    assert f"  - {COUNTED}; failure rate 3.2% over the week (agreed at most 5%) ✓\n" in out
    assert "measured by Prometheus" not in out
    end = bounds(WEEK, ZoneInfo(ZONE))[1]
    assert prometheus.requests == [checkout_queries()["failure_7d"]]
    assert prometheus.times == [f"{end.timestamp():.3f}"]


@pytest.mark.usefixtures("store")  # an emptied database
def test_firebell_review_keeps_the_agreed_rate_when_prometheus_does_not_answer(
    review_week: Callable[[str], str],
) -> None:
    """`prometheus_url` at a closed port: the count and agreed rate as without it, and
    the note says Prometheus did not answer; the command still succeeds."""
    closed = f"http://127.0.0.1:{free_port()}"
    out = review_week(closed)
    assert f"  - {COUNTED}; agreed failure rate at most 5%\n" in out
    assert "firebell counts cases, not answers (Prometheus did not answer).\n" in out
    assert "over the week" not in out


def test_the_posted_review_reads_the_measured_rate_when_sent_not_when_queued(
    database_url: str,
    store: Store,
    fake: FakeSlack,
    config_file: Path,
    prometheus: FakePrometheus,
) -> None:
    """The review fires with `prometheus_url` at the fake, which measured 7.5%: the
    Slack post shows it missed against at most 5%; the queued row holds no rate."""
    prometheus.answers[checkout_queries()["failure_7d"]] = 0.075
    config = load_config(config_file).model_copy(update={"prometheus_url": prometheus.url})
    report_the_week(database_url, config, fake)
    plan_row(store, due_in=timedelta(seconds=1))
    with running(database_url, config, fake):
        fake.wait_for(lambda: reviews_in(fake), timeout=10)
    [post] = reviews_in(fake)
    body = "\n".join(block["text"]["text"] for block in post.blocks if "text" in block)
    assert f"• {COUNTED}; failure rate 7.5% over the week (agreed at most 5%) ✗" in body
    [row] = review_outbox_rows(store)
    assert "0.075" not in row
