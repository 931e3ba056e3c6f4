"""Malformed and mistaken input at `POST /slack/events`: never a 500, never a traceback.

One table of cases, each a request to one running firebell shared by the module (no
case may change anything, so they cannot disturb each other), and what it must get:
401 when it is not signed as Slack signs, 400 and one warning when it is signed but not
shaped as Slack sends it, or a `:warning:` answer when a user got something wrong.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.config.model import Config
from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import sign
from bot.store.db import Store, make_engine
from tests.conftest import USERS, emptied
from tests.e2e.probe import FORM, JSON, Edge, Probe
from tests.e2e.scenario import ACK, SERVICE, declare, incident, incident_count
from tests.harness import SIGNING_SECRET, Firebell

LONG_ID = "U" + "1" * 99
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # zero-width and soft hyphen


class Expect(Enum):
    """What a case must get back."""

    UNSIGNED = "401"
    MALFORMED = "400 and one warning"
    ANSWER = "a :warning: answer to the command"
    TOLD = "a :warning: answer through the response_url"
    FORM_ERROR = "the form's errors"


Send = Callable[[Probe], Any]


# -- unsigned: every way of not being signed, with every kind of body --------------------


def _headers(timestamp: str | None, signature: str | None) -> dict[str, str]:
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
    return {k: v for k, v in headers.items() if v is not None}


def _seconds(offset: int = 0) -> str:
    return str(int(time.time()) + offset)


def _signed(
    timestamp: Callable[[], str] = _seconds, secret: str = SIGNING_SECRET
) -> Callable[[bytes], dict[str, str]]:
    """Headers signing a body correctly for `timestamp()` (taken when sent) with `secret`."""

    def headers(body: bytes) -> dict[str, str]:
        ts = timestamp()
        return _headers(ts, sign(secret, ts, body))

    return headers


def _signature(change: Callable[[str, bytes], str]) -> Callable[[bytes], dict[str, str]]:
    """Headers with a fresh timestamp and `change(timestamp, body)` as the signature."""

    def headers(body: bytes) -> dict[str, str]:
        ts = _seconds()
        return _headers(ts, change(ts, body))

    return headers


UNSIGNED: dict[str, Callable[[bytes], dict[str, str]]] = {
    "no-signature-headers": lambda body: {},
    "no-timestamp": lambda body: _headers(None, sign(SIGNING_SECRET, _seconds(), body)),
    "no-signature": lambda body: _headers(_seconds(), None),
    "empty-timestamp": _signed(lambda: ""),
    "letters-timestamp": _signed(lambda: "abc"),
    "400-digit-timestamp": _signed(lambda: "9" * 400),
    "negative-timestamp": _signed(lambda: "-" + _seconds()),
    "fractional-timestamp": _signed(lambda: _seconds() + ".5"),
    "stale-timestamp": _signed(lambda: _seconds(-6 * 60)),
    "future-timestamp": _signed(lambda: _seconds(6 * 60)),
    "wrong-secret": _signed(secret="not-the-secret"),
    "empty-signature": _signature(lambda ts, body: "v0="),
    "non-hex-signature": _signature(lambda ts, body: "v0=" + "z" * 64),
    "other-version": _signature(lambda ts, body: "v1" + sign(SIGNING_SECRET, ts, body)[2:]),
    "non-ascii-signature": _signature(lambda ts, body: "v0=\u00e9\u00e8"),
    "another-body-signature": _signature(lambda ts, body: sign(SIGNING_SECRET, ts, body + b"&")),
}

BODIES: dict[str, tuple[bytes, str]] = {
    "declare": (
        urlencode(
            {
                "command": "/incident",
                "text": "declare P1 Down",
                "user_id": "U01ML1",
                "channel_id": "C0GENERAL",
            }
        ).encode(),
        FORM,
    ),
    "payload-not-json": (b"payload=%7Bnot+json", FORM),
    "payload-array": (b"payload=%5B%5D", FORM),
    "non-utf8": (b"payload=\xff\xfe\x00\x80", FORM),
    "empty": (b"", FORM),
    "event": (
        json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}).encode(),
        JSON,
    ),
}


def _unsigned(headers: Callable[[bytes], dict[str, str]], body: bytes, kind: str) -> Send:
    return lambda probe: probe.post(body, headers(body), kind)


# -- signed but malformed ----------------------------------------------------------------


def _payload(raw: str) -> Send:
    return lambda probe: probe.signed(urlencode({"payload": raw}).encode())


def _pressed(**changes: Any) -> Send:
    return lambda probe: probe.interaction({**probe.press_payload(), **changes})


def _view(**changes: Any) -> Send:
    def send(probe: Probe) -> Any:
        payload = probe.form_payload("Prices are wrong")
        return probe.interaction({**payload, "view": {**payload["view"], **changes}})

    return send


def _state(values: Any) -> Send:
    return _view(state={"values": values})


def _event(envelope: dict[str, Any]) -> Send:
    return lambda probe: probe.signed(json.dumps(envelope).encode(), JSON)


MALFORMED: dict[str, Send] = {
    "non-utf8-form-body": lambda p: p.signed(b"payload=\xff\xfe"),
    "non-utf8-json-body": lambda p: p.signed(b'{"type": "\xff"}', JSON),
    "payload-not-json": _payload("{not json"),
    "payload-empty": _payload(""),
    "payload-empty-array": _payload("[]"),
    "payload-string": _payload('"block_actions"'),
    "payload-null": _payload("null"),
    "payload-number": _payload("42"),
    "payload-nested-too-deep": _payload("[" * 100_000),
    "payload-without-type": _payload("{}"),
    "payload-type-not-string": _payload('{"type": 5}'),
    "json-body-not-json": lambda p: p.signed(b"{oops", JSON),
    "json-body-array": lambda p: p.signed(b"[]", JSON),
    "json-body-null": lambda p: p.signed(b"null", JSON),
    "event-user-a-number": lambda p: p.signed(
        json.dumps({"type": "event_callback", "event": {"type": "message", "user": 1}}).encode(),
        JSON,
    ),
    "event-channel-a-number": lambda p: p.signed(
        json.dumps({"type": "event_callback", "event": {"type": "message", "channel": 2}}).encode(),
        JSON,
    ),
    "authorizations-team-a-number": lambda p: p.signed(
        json.dumps(
            {"type": "event_callback", "event": {"type": "x"}, "authorizations": [{"team": 5}]}
        ).encode(),
        JSON,
    ),
    "actions-empty": _pressed(actions=[]),
    "actions-not-a-list": _pressed(actions="incident_acknowledge"),
    "actions-an-object": _pressed(actions={"action_id": ACK}),
    "action-not-an-object": _pressed(actions=[5]),
    "action-without-action-id": _pressed(actions=[{"value": "1"}]),
    "action-id-not-a-string": _pressed(actions=[{"action_id": 7}]),
    "block-id-not-a-string": _pressed(actions=[{"action_id": ACK, "block_id": []}]),
    "press-without-user": _pressed(user=None),
    "press-user-a-string": _pressed(user="U01ML1"),
    "press-user-without-id": _pressed(user={"name": "u01ml1"}),
    "press-user-id-a-number": _pressed(user={"id": 5}),
    "team-a-number": _pressed(team=5),
    "channel-a-list": _pressed(channel=["C1"]),
    "enterprise-id-a-number": _pressed(enterprise={"id": 1}),
    "response-url-a-number": _pressed(response_url=5),
    "response-urls-a-string": _pressed(response_urls="https://hooks.slack.com/x"),
    "authorizations-a-string": _pressed(authorizations="all"),
    "event-null-in-an-interaction": _pressed(event=None),
    "view-missing": lambda p: p.interaction({**p.form_payload("x"), "view": None}),
    "view-a-string": lambda p: p.interaction({**p.form_payload("x"), "view": "V1"}),
    "view-without-type": _view(type=None),
    "view-without-callback-id": _view(callback_id=None),
    "view-without-id": _view(id=None),
    "view-without-state": _view(state=None),
    "view-private-metadata-an-object": _view(private_metadata={}),
    "state-values-a-string": _state("title"),
    "state-block-a-string": _state({"title": "Prices are wrong"}),
    "state-element-a-list": _state({"title": {"value": ["Prices"]}}),
    "state-value-a-number": _state({"title": {"value": {"value": 5}}}),
    "selected-option-a-string": _state({"severity": {"value": {"selected_option": "P1"}}}),
    "submission-without-user": lambda p: p.interaction({**p.form_payload("x"), "user": None}),
    "command-without-user-id": lambda p: p.command("list", user_id=None),
    "command-with-empty-user-id": lambda p: p.command("list", user_id=""),
    "command-without-channel-id": lambda p: p.command("list", channel_id=None),
    "command-with-empty-command": lambda p: p.command("list", command=""),
    "json-command-text-a-number": _event(
        {"command": "/incident", "text": 5, "user_id": "U01ML1", "channel_id": "C0GENERAL"}
    ),
    "event-callback-without-event": _event({"type": "event_callback"}),
    "event-a-string": _event({"type": "event_callback", "event": "app_mention"}),
    "event-without-type": _event({"type": "event_callback", "event": {"user": "U1"}}),
    "url-verification-without-challenge": _event({"type": "url_verification"}),
}


# -- users' mistakes ---------------------------------------------------------------------


def _press(value: str | None) -> Send:
    return lambda probe: probe.press(value)


MISTAKES: dict[str, tuple[Send, Expect]] = {
    **{
        f"button-value-{name}": (_press(value), Expect.TOLD)
        for name, value in {
            "letters": "abc",
            "exponent": "1e5",
            "empty": "",
            "missing": None,
            "power": "10^23",
            "beyond-integer": "99999999999999999999",
            "negative": "-1",
            "zero": "0",
            "arabic-digit": "\u0663",
            "unknown-incident": "424242",
        }.items()
    },
    "button-user-id-too-long": (
        lambda p: p.interaction({**p.press_payload(), "user": {"id": LONG_ID}}),
        Expect.TOLD,
    ),
    "show-ref-beyond-integer": (
        lambda p: p.command("show INC-99999999999999999999"),
        Expect.ANSWER,
    ),
    "show-ref-of-5000-digits": (lambda p: p.command("show INC-" + "9" * 5000), Expect.ANSWER),
    "show-ref-not-a-ref": (lambda p: p.command("show checkout"), Expect.ANSWER),
    "declare-title-with-nul": (lambda p: p.command("declare P2 Checkout\x00down"), Expect.ANSWER),
    "declare-title-with-escape": (lambda p: p.command("declare P2 Red\x1b[31m"), Expect.ANSWER),
    "declare-title-only-zero-width": (
        lambda p: p.command(f"declare P2 {INVISIBLE}"),
        Expect.ANSWER,
    ),
    "declare-title-only-blank-letters": (
        lambda p: p.command("declare P2 \u3164 \u2800"),
        Expect.ANSWER,
    ),
    "declare-user-id-too-long": (
        lambda p: p.command("declare P2 Down", user_id=LONG_ID),
        Expect.ANSWER,
    ),
    "declare-user-id-with-nul": (
        lambda p: p.command("declare P2 Down", user_id="U01\x00"),
        Expect.ANSWER,
    ),
    "declare-channel-id-too-long": (
        lambda p: p.command("declare P2 Down", channel_id="C" + "1" * 99),
        Expect.ANSWER,
    ),
    "declare-trigger-id-of-1000-characters": (
        lambda p: p.command("declare P2 Down", trigger_id="1." + "a" * 998),
        Expect.ANSWER,
    ),
    "declare-trigger-id-with-nul": (
        lambda p: p.command("declare P2 Down", trigger_id="1.2.\x00"),
        Expect.ANSWER,
    ),
    "form-with-an-unknown-trigger-id": (lambda p: p.command("", trigger_id="1.2.3"), Expect.ANSWER),
    "note-with-nul": (lambda p: p.command("note Rolled\x00back"), Expect.ANSWER),
    "note-only-zero-width": (lambda p: p.command(f"note {INVISIBLE}"), Expect.ANSWER),
    "note-too-long": (lambda p: p.command("note " + "x" * 3001), Expect.ANSWER),
    "status-with-nul": (lambda p: p.command("status Better\x00"), Expect.ANSWER),
    "status-only-zero-width": (lambda p: p.command(f"status {INVISIBLE}"), Expect.ANSWER),
    "resolve-summary-with-nul": (lambda p: p.command("resolve Fixed\x00"), Expect.ANSWER),
    "lead-mention-too-long": (lambda p: p.command(f"lead <@{LONG_ID}>"), Expect.ANSWER),
    "page-mention-too-long": (lambda p: p.command(f"page <@{LONG_ID}>"), Expect.ANSWER),
    "sev-with-nul": (lambda p: p.command("sev P\x001"), Expect.ANSWER),
    "form-title-with-nul": (lambda p: p.submit("Prices\x00wrong"), Expect.FORM_ERROR),
    "form-title-only-zero-width": (lambda p: p.submit(INVISIBLE), Expect.FORM_ERROR),
    "form-title-with-lone-surrogate": (lambda p: p.submit("Prices \ud800"), Expect.FORM_ERROR),
    "form-description-with-nul": (
        lambda p: p.interaction(
            {**p.form_payload("Prices are wrong", description="Since\x00noon")}
        ),
        Expect.FORM_ERROR,
    ),
    "form-user-id-too-long": (lambda p: p.submit(user={"id": LONG_ID}), Expect.FORM_ERROR),
    "form-view-id-too-long": (
        lambda p: p.interaction(
            {
                **(payload := p.form_payload("Prices are wrong")),
                "view": {**payload["view"], "id": "V" + "1" * 999},
            }
        ),
        Expect.FORM_ERROR,
    ),
}

CASES: dict[str, tuple[Send, Expect]] = {
    **{
        f"{how}-{body}": (_unsigned(headers, *BODIES[body]), Expect.UNSIGNED)
        for (how, headers), body in itertools.product(UNSIGNED.items(), BODIES)
    },
    **{name: (send, Expect.MALFORMED) for name, send in MALFORMED.items()},
    **MISTAKES,
}


@pytest.fixture(scope="module")
def edge(database_url: str, config: Config) -> Iterator[Edge]:
    """firebell with one open P2 incident, for the whole table."""
    fake = FakeSlack().start()
    for user in USERS:
        fake.add_user(user, user.lower())
    store = emptied(Store(make_engine(database_url)))
    app = Firebell(database_url=database_url, config=config, fake=fake).start()
    try:
        yield Edge(
            app, fake, store, declare(app, fake, store, f"P2 Prices wrong service:{SERVICE}")
        )
    finally:
        app.stop()
        store.dispose()
        fake.stop()


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_a_clear_answer_never_a_500_or_a_traceback(
    name: str, edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """Each case gets what its kind of input deserves, logged without a traceback."""
    send, expect = CASES[name]
    caplog.set_level(logging.INFO)
    probe = Probe(edge, edge.fake.response_url())

    response = send(probe)

    assert response.status_code != 500, response.text
    if expect is Expect.UNSIGNED:
        assert response.status_code == 401, response.text
    elif expect is Expect.MALFORMED:
        assert response.status_code == 400, response.text
    else:
        assert response.status_code == 200, response.text
        answer = _answer(probe, response, expect)
        assert "Something went wrong" not in answer
        assert expect is Expect.FORM_ERROR or answer.startswith(":warning:"), answer
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text]
    assert tracebacks == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    refused = expect in (Expect.MALFORMED, Expect.UNSIGNED)
    assert len(warnings) == (1 if refused else 0), warnings
    assert incident_count(edge.store) == 1
    current = incident(edge.store, edge.declared.number)
    assert current is not None
    assert (current.state, current.title) == ("open", "Prices wrong")


def test_slacks_unsigned_ssl_check_gets_an_empty_200(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack probes the certificate with an unsigned `ssl_check=1`: it gets 200, nothing else."""
    caplog.set_level(logging.INFO)
    probe = Probe(edge, edge.fake.response_url())

    response = probe.post(b"ssl_check=1&token=legacy-verification-token", {})

    assert (response.status_code, response.text) == (200, "")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_ssl_check_with_more_fields_is_not_taken_for_one(edge: Edge) -> None:
    """A command that also says `ssl_check=1` is checked for its signature like any other."""
    probe = Probe(edge, edge.fake.response_url())

    response = probe.post(b"ssl_check=1&command=%2Fincident&text=resolve", {})

    assert response.status_code == 401


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_body_over_a_mebibyte_gets_413_unread(
    signed: bool, edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """A huge body is refused before it is read whole, signed or not, with one warning."""
    caplog.set_level(logging.INFO)
    probe = Probe(edge, edge.fake.response_url())
    body = urlencode({"text": "x" * (1 << 20)}).encode()

    response = probe.signed(body) if signed else probe.post(body, {})

    assert response.status_code == 413
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["refused a request to /slack/events (413): body over 1048576 bytes"]


def _answer(probe: Probe, response: Any, expect: Expect) -> str:
    """What the user was told."""
    if expect is Expect.ANSWER:
        body = response.json()
        assert body["response_type"] == "ephemeral"
        return str(body["text"])
    if expect is Expect.FORM_ERROR:
        body = response.json()
        assert body["response_action"] == "errors"
        (error,) = body["errors"].values()
        return str(error)
    url_id = probe.response_url.rsplit("/", 1)[-1]
    posts = probe.edge.fake.wait_for(
        lambda: [r for r in probe.edge.fake.responses if r.id == url_id]
    )
    return str(posts[0].text)
