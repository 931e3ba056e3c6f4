"""The week's measured failure rates in the weekly review, from plain values: beside the
agreed rate with whether it was kept, or today's count-and-agreed wording when
Prometheus is not configured, did not answer or had no data; never in the row."""

from __future__ import annotations

import json

from bot.reviews.failures import failure_facts
from bot.reviews.payload import to_payload
from bot.reviews.render import digest_blocks, digest_text
from bot.slo.weekly import WeekRates
from tests.unit.test_review_failures import BUSY, digest

AGREED = {"checkout-assistant": 0.05}
COUNTED = "checkout-assistant: 9 (wrong_answer 6, thumbs_down 3)"
NOTE = "The failure rate (failures per answer) is measured by Prometheus"


def slack_text(rates: WeekRates | None, hidden: dict[str, str] | None = None) -> str:
    """Every section text of the review's blocks with these rates, joined."""
    blocks = digest_blocks(digest(failure_facts(BUSY, AGREED, hidden)), rates)[1]
    return "\n".join(b.to_dict()["text"]["text"] for b in blocks if "text" in b.to_dict())


def terminal_text(rates: WeekRates | None) -> str:
    """The review as `firebell review` prints it with these rates."""
    return digest_text(digest(failure_facts(BUSY, AGREED)), rates)


def test_a_measured_rate_within_the_agreed_one_is_shown_kept() -> None:
    """3.2% against at most 5%: shown with a tick in both, and no "measured by" note."""
    rates = WeekRates(answered=True, rates={"checkout-assistant": 0.032})
    line = f"{COUNTED}; failure rate 3.2% over the week (agreed at most 5%) ✓"
    assert f"• {line}" in slack_text(rates)
    assert f"  - {line}\n" in terminal_text(rates)
    assert NOTE not in terminal_text(rates)


def test_a_measured_rate_above_the_agreed_one_is_shown_missed() -> None:
    """7.5% against at most 5%: shown with a cross."""
    rates = WeekRates(answered=True, rates={"checkout-assistant": 0.075})
    line = f"{COUNTED}; failure rate 7.5% over the week (agreed at most 5%) ✗"
    assert f"  - {line}\n" in terminal_text(rates)


def test_a_prometheus_that_did_not_answer_keeps_the_agreed_wording_and_says_so() -> None:
    """Configured but silent: count and agreed rate as without it, the note saying
    Prometheus did not answer."""
    text = terminal_text(WeekRates(answered=False))
    assert f"  - {COUNTED}; agreed failure rate at most 5%\n" in text
    assert "firebell counts cases, not answers (Prometheus did not answer).\n" in text
    assert "over the week" not in text


def test_a_service_without_data_keeps_the_agreed_wording_without_blame() -> None:
    """Prometheus answered without a sample for checkout: today's wording and note."""
    text = terminal_text(WeekRates(answered=True, rates={}))
    assert f"  - {COUNTED}; agreed failure rate at most 5%\n" in text
    assert "firebell counts cases, not answers.\n" in text


def test_without_prometheus_url_the_wording_is_unchanged() -> None:
    """No rates (None) words the review exactly as before rates were read."""
    assert terminal_text(None) == digest_text(digest(failure_facts(BUSY, AGREED)))
    assert f"  - {COUNTED}; agreed failure rate at most 5%\n" in terminal_text(None)
    assert "firebell counts cases, not answers.\n" in terminal_text(None)


def test_a_pii_service_shows_its_rate_and_still_hides_its_examples() -> None:
    """The rate is a number: shown for a `pii` service, whose cases stay unquoted."""
    rates = WeekRates(answered=True, rates={"checkout-assistant": 0.032})
    text = slack_text(rates, {"checkout-assistant": "pii"})
    assert (
        f"• {COUNTED}; failure rate 3.2% over the week (agreed at most 5%) ✓; "
        "examples hidden: classified pii"
    ) in text
    assert "conv-8812" not in text


def test_the_queued_row_holds_no_measured_rate() -> None:
    """The facts the outbox row stores have the agreed rate only: rates are read when sent."""
    row = json.dumps(to_payload(digest(failure_facts(BUSY, AGREED))))
    assert '"max_failure_rate": 0.05' in row
    assert "measured" not in row
    assert "rate1h" not in row
