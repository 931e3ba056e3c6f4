"""`POST /hooks/feedback` over real HTTP: who may report failure cases, what is refused,
what is kept (each ref once), and where they show (`/metrics`, `/incident feedback`,
`firebell feedback`)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, col, select

from bot.cli import main
from bot.feedback.model import KINDS
from bot.store.db import Store
from bot.store.tables import FailureCase
from tests.conftest import TEST_CONFIG
from tests.e2e.scenario import SERVICE, answer_text
from tests.harness import WEBHOOK_TOKEN, Firebell, post_hook

MENTION = "the bot said <!channel> & <@U01ML1> should refund"


def send(firebell: Firebell, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST `body` (JSON, or bytes as they are) to the feedback hook."""
    return post_hook(firebell, "feedback", body, headers)


def case(kind: str = "wrong_answer", **fields: Any) -> dict[str, Any]:
    """A failure case of the checkout assistant."""
    return {"service": SERVICE, "kind": kind, **fields}


def cases(store: Store) -> list[FailureCase]:
    """Every kept case, in the order they were kept."""

    def rows(session: Session) -> list[FailureCase]:
        return list(session.execute(select(FailureCase).order_by(col(FailureCase.id))).scalars())

    return store.call(rows)


def counted(firebell: Firebell) -> dict[str, float]:
    """`firebell_feedback_events_total` of the checkout assistant in `/metrics`, by kind."""
    text = httpx.get(firebell.url + "/metrics", timeout=10).text
    return {
        sample.labels["kind"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "firebell_feedback_events_total"
        and sample.labels.get("service") == SERVICE
    }


def test_a_batch_is_kept_whole_and_counted_in_metrics(firebell: Firebell, store: Store) -> None:
    """Every case of a batch is kept with its fields; the counter moves by kind."""
    assert counted(firebell) == dict.fromkeys(KINDS, 0.0)
    at = "2026-03-01T10:00:00+01:00"
    batch = [
        case("wrong_answer", ref="conv-1", text="refund policy wrong", at=at),
        case("low_confidence", confidence=0.31),
        case("thumbs_down", ref="conv-2"),
        case("wrong_answer"),
        case("escalated_to_human", ref="conv-3", confidence=1),
    ]
    answer = send(firebell, {"events": batch})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "kept": 5, "repeated": 0}
    rows = cases(store)
    assert sorted(row.kind for row in rows) == sorted(event["kind"] for event in batch)
    [first] = [row for row in rows if row.ref == "conv-1"]
    assert (first.service, first.kind, first.text) == (
        SERVICE,
        "wrong_answer",
        "refund policy wrong",
    )
    assert first.at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    [unsure] = [row for row in rows if row.kind == "low_confidence"]
    assert unsure.confidence == pytest.approx(0.31)
    assert unsure.ref is None
    assert abs(unsure.at - datetime.now(UTC)) < timedelta(minutes=1)
    assert counted(firebell) == {
        "wrong_answer": 2.0,
        "low_confidence": 1.0,
        "thumbs_down": 1.0,
        "escalated_to_human": 1.0,
    }


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"events": [case(), case(), case(), case("wrong")]}, "events[3].kind", "thumbs_down"),
        ({"events": [case(), {"kind": "thumbs_down"}]}, "events[1].service", "missing"),
        (case("thumbs-down"), "kind", "did you mean 'thumbs_down'"),
        ({"kind": "wrong_answer"}, "service", "missing"),
        (case(confidence=1.5), "confidence", "from 0 to 1"),
        (case(confidence="high"), "confidence", "number"),
        (case(at="2026-03-01T09:00:00"), "at", "offset"),
        (case(at=1767225600), "at", "ISO 8601"),
        (case(text=42), "text", "string"),
        (case(ref="a\nb"), "ref", "one line"),
        (case(confidance=0.2), "confidance", "did you mean 'confidence'"),
        ({"events": []}, "events", "1 to 500"),
        ({"events": [case()] * 501}, "events", "1 to 500"),
        ([case(), case("nope")], "[1].kind", "kinds: "),
        ([], "body", "1 to 500"),
        ("wrong_answer", "body", "must be one case"),
        ({"events": [case()], "source": "x"}, "source", "only"),
    ],
    ids=lambda value: value if isinstance(value, str) and "." not in value else None,
)
def test_a_bad_case_is_refused_with_422_naming_its_field(
    firebell: Firebell, store: Store, body: Any, field: str, words: str
) -> None:
    """A bad field anywhere in a body refuses the whole body, naming the field and how
    to fix it; nothing of it is kept."""
    answer = send(firebell, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == [field]
    assert answer.json()["error"].startswith(f"{field}: ")
    assert words in answer.json()["error"]
    assert cases(store) == []


def test_a_bare_json_array_is_a_batch_too(firebell: Firebell, store: Store) -> None:
    """`[case, ...]` is taken like `{"events": [case, ...]}`."""
    answer = send(firebell, [case(ref="a-1"), case("thumbs_down")])
    assert answer.json() == {"ok": True, "kept": 2, "repeated": 0}
    assert sorted(row.kind for row in cases(store)) == ["thumbs_down", "wrong_answer"]


def test_a_bad_kind_lists_the_kinds(firebell: Firebell) -> None:
    """The answer to an unknown kind names every kind firebell takes."""
    answer = send(firebell, {"events": [case(), case(), case(), case("angry")]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error.startswith("events[3].kind: 'angry' is not a kind; kinds: ")
    assert all(kind in error for kind in KINDS)


def test_an_unknown_service_is_named_with_the_closest_known_one(
    firebell: Firebell, store: Store
) -> None:
    """A service not in the config is a 422 naming it, suggesting the close one."""
    answer = send(firebell, {"events": [case(), {"service": "checkout", "kind": "thumbs_down"}]})
    assert answer.status_code == 422
    assert answer.json()["fields"] == ["events[1].service"]
    assert (
        "unknown service 'checkout'; did you mean 'checkout-assistant'?" in (answer.json()["error"])
    )
    assert cases(store) == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": WEBHOOK_TOKEN}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_a_report_without_the_bearer_token_is_refused_with_401(
    firebell: Firebell, store: Store, headers: dict[str, str]
) -> None:
    """No token, a wrong one or one not sent as a bearer: 401, nothing kept or counted."""
    answer = send(firebell, {"events": [case()]}, headers)
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["error"]
    assert cases(store) == []
    assert counted(firebell)["wrong_answer"] == 0


def test_a_2_mb_body_is_a_413_and_a_body_not_json_a_400(firebell: Firebell, store: Store) -> None:
    """Over 1 MiB is refused before it is read; not JSON, or nested past reading, is a
    400."""
    huge = json.dumps({"events": [case(text="x" * 4000) for _ in range(500)]}).encode()
    assert len(huge) > 2_000_000
    answer = send(firebell, huge)
    assert answer.status_code == 413
    assert "body over 1048576 bytes" in answer.json()["error"]
    assert send(firebell, b"kind=wrong_answer").status_code == 400
    assert send(firebell, b"[" * 100_000).status_code == 400
    assert send(firebell, b'{"service": NaN}').status_code == 400
    assert cases(store) == []


def test_the_largest_batch_is_kept_and_long_text_is_cut(firebell: Firebell, store: Store) -> None:
    """500 cases in one body are kept; a text over 2,000 characters keeps its first 2,000."""
    long = "é" * 2500
    answer = send(firebell, {"events": [case(text=long)] + [case()] * 499})
    assert answer.status_code == 200, answer.text
    assert answer.json()["kept"] == 500
    rows = cases(store)
    assert len(rows) == 500
    assert rows[0].text == "é" * 2000


def test_the_same_ref_is_kept_once_per_service_and_kind(firebell: Firebell, store: Store) -> None:
    """A ref already kept is repeated, not kept or counted again; the same ref of
    another kind is a case of its own; cases without a ref all count."""
    first = send(firebell, {"events": [case(ref="conv-9"), case(ref="conv-9"), case()]})
    assert first.json() == {"ok": True, "kept": 2, "repeated": 1}
    again = send(
        firebell, {"events": [case(ref="conv-9"), case("thumbs_down", ref="conv-9"), case()]}
    )
    assert again.json() == {"ok": True, "kept": 2, "repeated": 1}
    assert sorted((row.kind, row.ref or "") for row in cases(store)) == [
        ("thumbs_down", "conv-9"),
        ("wrong_answer", ""),
        ("wrong_answer", ""),
        ("wrong_answer", "conv-9"),
    ]
    assert counted(firebell)["wrong_answer"] == 3
    assert counted(firebell)["thumbs_down"] == 1


def test_batches_of_the_same_refs_at_once_are_kept_once(firebell: Firebell, store: Store) -> None:
    """Four batches of the same refs racing each other (two of them in the reverse
    order): each case kept once, no batch refused, and the answers together say so."""
    refs = [case(ref=f"race-{i}") for i in range(50)]
    batches = [{"events": refs}, {"events": refs}, {"events": refs[::-1]}, {"events": refs[::-1]}]
    start = threading.Barrier(4)
    answers: list[dict[str, Any]] = []

    def post(batch: dict[str, Any]) -> None:
        start.wait()
        answer = send(firebell, batch)
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())

    threads = [threading.Thread(target=post, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(answers) == 4
    assert sum(answer["kept"] for answer in answers) == 50
    assert sum(answer["repeated"] for answer in answers) == 150
    assert len(cases(store)) == 50
    assert counted(firebell)["wrong_answer"] == 50


def test_mention_syntax_is_stored_as_sent_and_escaped_in_slack(
    firebell: Firebell, store: Store
) -> None:
    """`<!channel>` in a case's text is kept as sent; `/incident feedback` shows it
    inert, with the counts by kind and each case's kind, confidence and ref."""
    events = [
        case("thumbs_down", ref="conv-<!here>", text=MENTION, confidence=0.42),
        case("low_confidence", confidence=0.1),
        case("low_confidence"),
    ]
    assert send(firebell, {"events": events}).status_code == 200
    assert cases(store)[0].text == MENTION
    answer = answer_text(firebell.slack.command(f"feedback {SERVICE}", channel_id="C0ANYWHERE"))
    lines = answer.splitlines()
    assert lines[0] == f"*Failure cases of {SERVICE}, last 7 days: 3*"
    assert lines[1] == "low_confidence 2 · thumbs_down 1"
    assert "<!channel>" not in answer
    assert "<@U01ML1>" not in answer
    assert "<!here>" not in answer
    assert "&lt;!channel&gt; &amp; &lt;@U01ML1&gt;" in answer
    assert "confidence 0.42 · ref `conv-&lt;!here&gt;`" in answer


def test_feedback_stays_within_slacks_limits_however_long_the_cases(firebell: Firebell) -> None:
    """Twelve cases of the longest text and ref, all markup: the answer shows the ten
    newest, cut and inert, in under 4,000 characters."""
    long = "<!channel> " * 200
    events = [case(ref=f"<{i:03}" + "<" * 196, text=long, confidence=0.5) for i in range(12)]
    assert send(firebell, {"events": events}).json()["kept"] == 12
    answer = answer_text(firebell.slack.command(f"feedback {SERVICE}", channel_id="C0ANYWHERE"))
    assert len(answer) < 4000
    assert "<!channel" not in answer
    assert "`<" not in answer
    assert answer.count("• *wrong_answer*") == 10
    assert "&lt;!channel&gt; &lt;!channel&gt;" in answer


def test_feedback_of_an_unknown_or_quiet_service(firebell: Firebell) -> None:
    """An unknown service names the known ones; a service without cases says so."""
    unknown = answer_text(firebell.slack.command("feedback checkout", channel_id="C0ANYWHERE"))
    assert "There is no service `checkout`" in unknown
    assert "Did you mean 'checkout-assistant'?" in unknown
    assert f"Known services: `{SERVICE}`" in unknown
    quiet = answer_text(firebell.slack.command(f"feedback {SERVICE}", channel_id="C0ANYWHERE"))
    assert quiet.splitlines()[1] == "No failure cases reported on /hooks/feedback in that time."
    usage = answer_text(firebell.slack.command("feedback", channel_id="C0ANYWHERE"))
    assert "Name a service" in usage
    assert "/incident feedback <service>" in usage


def test_firebell_feedback_prints_counts_and_the_latest_examples(
    firebell: Firebell,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell feedback` counts by service and kind over `--since`, then the newest
    cases; an older case falls out of a shorter period; an unknown service is a 2."""
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    events = [
        case(ref="conv-1", text="wrong\nrefund\x1b[31m policy", confidence=0.9),
        case("thumbs_down", ref="conv-2"),
        case("thumbs_down", at=old),
    ]
    assert send(firebell, {"events": events}).status_code == 200
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(TEST_CONFIG))
    assert main(["feedback"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Failure cases from ")
    assert lines[0].endswith(" UTC: 3")
    assert lines[2].split() == [SERVICE, "3", "thumbs_down", "2,", "wrong_answer", "1"]
    assert lines[4] == "Latest 3:"
    assert "wrong_answer  confidence 0.90  ref conv-1" in out
    assert "      wrong refund\\x1b[31m policy" in out
    assert main(["feedback", "--since", "1d", "--service", SERVICE]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[:2] == [SERVICE, "2"]
    assert main(["feedback", "--service", "checkout"]) == 2
    assert "did you mean 'checkout-assistant'?" in capsys.readouterr().err
