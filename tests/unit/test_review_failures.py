"""The week's failure cases in the weekly review, from plain values: what the digest
holds (counts, agreed rates, capped examples) and how Slack and the terminal word it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.feedback.cases import Summary
from bot.reviews.digest import Digest, weekly_digest
from bot.reviews.failures import EXAMPLE_TEXT, FailureFacts, failure_facts
from bot.reviews.payload import from_payload, to_payload
from bot.reviews.render import digest_blocks, digest_text
from bot.store.tables import FailureCase
from tests.unit.test_review_digest import BERLIN, END, NOW, START, WEEK

LOUD = "<!channel> the bot said refunds take 90 days & @here agreed"


def case(
    kind: str, hours: float, *, service: str = "checkout-assistant", **fields: Any
) -> FailureCase:
    """A kept case `hours` into the week."""
    at = START + timedelta(hours=hours)
    return FailureCase(service=service, kind=kind, at=at, received_at=at, **fields)


def summary(counts: list[tuple[str, str, int]], latest: list[FailureCase]) -> Summary:
    """The week's summary as `summarise` returns it."""
    return Summary(since=START, now=END, counts=counts, latest=latest)


def digest(failures: FailureFacts | None) -> Digest:
    """A week without incidents, with these failure facts."""
    return weekly_digest(
        week=WEEK,
        zone=BERLIN,
        incidents=[],
        rollbacks=[],
        followups=[],
        refs={},
        now=NOW,
        failures=failures,
    )


def slack_text(found: Digest) -> str:
    """Every mrkdwn text of the review's blocks, joined."""
    texts = []
    for block in digest_blocks(found)[1]:
        data = block.to_dict()
        if "text" in data:
            texts.append(data["text"]["text"])
        texts += [e["text"] for e in data.get("elements", []) if "text" in e]
    return "\n".join(texts)


BUSY = summary(
    [
        ("checkout-assistant", "thumbs_down", 3),
        ("checkout-assistant", "wrong_answer", 6),
        ("search", "low_confidence", 2),
    ],
    [
        case("wrong_answer", 50, ref="conv-8812", text=LOUD, confidence=0.62),
        case("low_confidence", 40, service="search"),
    ],
)


def test_cases_are_counted_by_service_and_kind_most_first() -> None:
    """9 for checkout (6 wrong answers, 3 thumbs down) before search's 2; kinds overall."""
    facts = failure_facts(BUSY, {})
    assert facts.total == 11
    assert [(s.service, s.count, s.kinds) for s in facts.services] == [
        ("checkout-assistant", 9, (("wrong_answer", 6), ("thumbs_down", 3))),
        ("search", 2, (("low_confidence", 2),)),
    ]
    assert facts.kinds == (("wrong_answer", 6), ("thumbs_down", 3), ("low_confidence", 2))


def test_a_service_with_an_agreed_rate_is_listed_even_without_cases() -> None:
    """The agreed max_failure_rate sits next to the count; no rate is made up."""
    facts = failure_facts(BUSY, {"checkout-assistant": 0.05, "billing": 0.01})
    assert [(s.service, s.count, s.max_failure_rate) for s in facts.services] == [
        ("checkout-assistant", 9, 0.05),
        ("search", 2, None),
        ("billing", 0, 0.01),
    ]


def test_an_examples_text_is_capped_in_the_digest() -> None:
    """A 2,000-character text travels in the review's row as its first 300 characters."""
    long = summary(
        [("checkout-assistant", "wrong_answer", 1)], [case("wrong_answer", 1, text="x" * 2000)]
    )
    [example] = failure_facts(long, {}).examples
    assert example.text == "x" * EXAMPLE_TEXT


def test_slack_shows_counts_agreed_rates_and_examples_with_words_escaped() -> None:
    """Counts by kind, each service with its agreed rate, where the rate is measured, and
    the newest cases; `<!channel>` and `@here` in a text notify nobody."""
    text = slack_text(digest(failure_facts(BUSY, {"checkout-assistant": 0.05})))
    assert (
        "*Failure cases*\n• 11 failure cases reported on /hooks/feedback: "
        "wrong_answer 6, thumbs_down 3, low_confidence 2"
    ) in text
    assert (
        "• checkout-assistant: 9 (wrong_answer 6, thumbs_down 3); agreed failure rate at most 5%"
    ) in text
    assert "• search: 2 (low_confidence 2)\n" in text
    assert "is measured by Prometheus as `firebell:slo_failure_ratio:rate1h`" in text
    assert "• Latest: checkout-assistant wrong_answer, <!date^" in text
    assert (
        "confidence 0.62, ref conv-8812: &lt;!channel&gt; the bot said refunds take 90 days "
        "&amp; @\u2060here agreed"
    ) in text
    assert "<!channel>" not in text


def test_slack_lists_the_top_five_services_and_the_terminal_all() -> None:
    """Seven services with cases: five in Slack and a pointer to the terminal, which lists all."""
    many = summary([(f"svc-{n}", "thumbs_down", 10 - n) for n in range(7)], [])
    found = digest(failure_facts(many, {}))
    text = slack_text(found)
    assert "• svc-4: 6 (thumbs_down 6)" in text
    assert "svc-5" not in text
    assert "…and 2 more services: `firebell review --week 2026-W10` lists all" in text
    terminal = digest_text(found)
    assert "  - svc-6: 4 (thumbs_down 4)" in terminal


def test_the_terminal_shows_a_text_as_typed_with_control_characters_visible() -> None:
    """The words stay as sent, on one line and cut; an escape sequence cannot act."""
    odd = summary(
        [("checkout-assistant", "thumbs_down", 1)],
        [case("thumbs_down", 3, text="bad\x1b[31m answer\n" + "y" * 400)],
    )
    lines = digest_text(digest(failure_facts(odd, {}))).splitlines()
    [latest] = [line for line in lines if "Latest:" in line]
    assert latest.startswith(
        "  - Latest: checkout-assistant thumbs_down, Mon 2026-03-02 03:00 CET: "
    )
    assert "bad\\x1b[31m answer yyy" in latest
    assert latest.endswith("y…")
    assert "\x1b" not in latest


def test_a_week_without_failure_cases_says_so_in_both() -> None:
    """No case reported: one line in Slack and in the terminal."""
    found = digest(failure_facts(summary([], []), {"checkout-assistant": 0.05}))
    line = "No failure cases reported on /hooks/feedback in 2026-W10."
    assert f"*Failure cases*\n• {line}" in slack_text(found)
    assert f"Failure cases\n  - {line}" in digest_text(found)


def test_a_review_queued_before_failure_cases_were_read_says_nothing_of_them() -> None:
    """A row without failure facts (None) renders no section rather than "none"."""
    found = digest(None)
    assert "Failure cases" not in slack_text(found)
    assert "Failure cases" not in digest_text(found)
    old_row = to_payload(found)
    del old_row["failures"]
    assert from_payload(old_row).failures is None


def test_failure_facts_survive_the_trip_through_the_outbox_unchanged() -> None:
    """`from_payload(to_payload(d)) == d` with services, kinds, rates and examples."""
    found = digest(failure_facts(BUSY, {"checkout-assistant": 0.05, "billing": 0.01}))
    assert from_payload(json.loads(json.dumps(to_payload(found)))) == found


def test_a_pii_services_cases_are_counted_and_never_quoted_in_either() -> None:
    """Checkout classified `pii`: its 9 are counted by kind and it says its examples are
    hidden; none of its cases reaches the facts (so the row), Slack or the terminal,
    while search's example still shows."""
    facts = failure_facts(BUSY, {"checkout-assistant": 0.05}, {"checkout-assistant": "pii"})
    assert [e.service for e in facts.examples] == ["search"]
    found = digest(facts)
    line = (
        "checkout-assistant: 9 (wrong_answer 6, thumbs_down 3); agreed failure rate at most "
        "5%; examples hidden: classified pii"
    )
    slack, terminal = slack_text(found), digest_text(found)
    assert f"• {line}" in slack
    assert f"  - {line}\n" in terminal
    assert "• Latest: search low_confidence" in slack
    row = json.dumps(to_payload(found))
    for shown in (slack, terminal, row):
        assert "conv-8812" not in shown
        assert "refunds" not in shown
    assert from_payload(json.loads(row)) == found


def test_a_row_that_quoted_a_service_later_hidden_still_does_not_quote_it() -> None:
    """Examples of a service marked hidden in the same facts are left out when shown."""
    facts = failure_facts(BUSY, {})
    checkout = facts.services[0]
    hidden = replace(facts, services=(replace(checkout, hidden_as="confidential"),))
    text = slack_text(digest(hidden))
    assert "examples hidden: classified confidential" in text
    assert "refunds" not in text
