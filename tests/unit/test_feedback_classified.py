"""`/incident feedback <service>` of a `confidential` or `pii` service: counts by kind,
no case quoted, and where an operator reads them instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.feedback.cases import Summary
from bot.feedback.render import slack_feedback
from bot.store.tables import FailureCase

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
TEXT = "customer <@U01ML1> asked about order 4711"


def summary(latest: list[FailureCase]) -> Summary:
    """Seven days of the checkout assistant: 2 wrong answers, 1 thumbs down."""
    counts = [("checkout-assistant", "thumbs_down", 1), ("checkout-assistant", "wrong_answer", 2)]
    return Summary(since=NOW - timedelta(days=7), now=NOW, counts=counts, latest=latest)


def case() -> FailureCase:
    """A case with a customer's words and a ref."""
    return FailureCase(
        service="checkout-assistant",
        kind="wrong_answer",
        ref="conv-4711",
        text=TEXT,
        at=NOW - timedelta(hours=1),
        received_at=NOW - timedelta(hours=1),
    )


def test_a_pii_service_shows_counts_and_says_where_the_examples_are() -> None:
    """The heading and counts as usual, then the hint to `firebell feedback`; no text,
    no ref, even if a case was read."""
    answer = slack_feedback("checkout-assistant", summary([case()]), days=7, hidden_as="pii")
    assert answer.splitlines() == [
        "*Failure cases of checkout-assistant, last 7 days: 3*",
        "wrong_answer 2 · thumbs_down 1",
        "Examples hidden: checkout-assistant is classified pii; "
        "`firebell feedback --service checkout-assistant` prints them for operators.",
    ]
    assert "4711" not in answer


def test_an_internal_service_still_shows_its_latest_cases() -> None:
    """Without a classification that hides them, the newest cases are quoted, escaped."""
    answer = slack_feedback("checkout-assistant", summary([case()]), days=7)
    assert "*Latest 1*" in answer
    assert "ref `conv-4711`" in answer
    assert "customer &lt;@U01ML1&gt; asked about order 4711" in answer
    assert "Examples hidden" not in answer


def test_a_quiet_pii_service_says_only_that_it_is_quiet() -> None:
    """No cases: the same one line as any service, nothing hidden to speak of."""
    quiet = Summary(since=NOW - timedelta(days=7), now=NOW, counts=[], latest=[])
    answer = slack_feedback("checkout-assistant", quiet, days=7, hidden_as="confidential")
    assert answer.splitlines()[1] == "No failure cases reported on /hooks/feedback in that time."
