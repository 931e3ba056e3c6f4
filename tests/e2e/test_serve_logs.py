"""What `firebell serve` logs, read from a real process in both log formats."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store, make_engine
from tests.conftest import USERS, emptied
from tests.e2e.scenario import answer_text, channel_of
from tests.harness import SIGNING_SECRET
from tests.serving import e2e_env, start_serve

LIBRARIES = ("apscheduler", "alembic", "slack_bolt", "slack_sdk", "bot.slack.bolt", "httpx")
IDLE = 5.5  # seconds: longer than the deadline clock's poll, so APScheduler runs a job
UNHANDLED = {  # an event firebell has no listener for, with words that must stay out of logs
    "type": "star_added",
    "user": "U01ML1",
    "reaction": "secret-reaction-words",
    "item": {"type": "message", "channel": "C0GENERAL", "ts": "1.000001"},
    "event_ts": "1.000002",
}
_CONSOLE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) +(?P<logger>\S+): (?P<message>.*)$")


@dataclass(frozen=True)
class Line:
    """One log line, parsed."""

    level: str
    logger: str
    message: str
    fields: dict[str, object] = field(default_factory=dict)


def _parse(text: str, fmt: str) -> list[Line]:
    """Every line of `text` in format `fmt`; a line that is not a log line fails."""
    lines = []
    for raw in text.splitlines():
        if fmt == "json":
            entry = json.loads(raw)
            lines.append(
                Line(entry["level"].upper(), entry["logger"], entry["message"], fields=entry)
            )
            continue
        match = _CONSOLE.match(raw)
        assert match is not None, f"not a log line: {raw!r}"
        lines.append(Line(match["level"], match["logger"], match["message"]))
    return lines


@dataclass
class Run:
    """What one `firebell serve` run logged: during the journey, and while idle."""

    journey: list[Line]
    idle: list[Line]
    ref: str


@pytest.fixture(scope="module", params=["json", "console"])
def run(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    """One run per format (each test reads it): serve with LOG_FORMAT=`param`; declare,
    ack, change severity, escalate, mitigate and resolve through signed requests; idle,
    probe /readyz, hit an unknown route, send a badly signed request and an unhandled
    event; stop with SIGTERM."""
    fake = FakeSlack().start()
    store = emptied(Store(make_engine(database_url)))
    try:
        for user in USERS:
            fake.add_user(user, user.lower())
        yield _serve(str(request.param), fake, store, database_url, tmp_path_factory.mktemp("logs"))
    finally:
        store.dispose()
        fake.stop()


def _serve(fmt: str, fake: FakeSlack, store: Store, database_url: str, tmp_path: Path) -> Run:
    """Run `firebell serve` through the journey and return what it logged, parsed."""
    env = e2e_env(fake, database_url, LOG_FORMAT=fmt)
    path = tmp_path / "serve.log"
    with path.open("w") as output:
        try:
            process, url = start_serve(env, cwd=tmp_path, output=output)
        except RuntimeError as err:
            raise RuntimeError(f"{err}:\n{path.read_text()[-4000:]}") from None
        try:
            ref = _journey(url, fake, store)
            mark = path.stat().st_size
            time.sleep(IDLE)
            for _ in range(3):
                assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
            idle = path.read_bytes()[mark:].decode()
            unknown = httpx.get(f"{url}/nope?token=xoxb-1-query-secret", timeout=5)
            assert unknown.status_code == 404
            with SlackRequests(url, SIGNING_SECRET, fake=fake) as slack:
                assert slack.command("list", bad_signature=True).status_code == 401
                assert slack.event(UNHANDLED).status_code == 404
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    text = path.read_text()
    assert "Traceback" not in text
    assert process.returncode == 0, text
    return Run(_parse(text, fmt), _parse(idle, fmt), ref)


def _journey(url: str, fake: FakeSlack, store: Store) -> str:
    """Declare an incident and take it to resolved; return its ref."""
    with SlackRequests(url, SIGNING_SECRET, fake=fake) as slack:
        answer = answer_text(slack.command("declare P1 Checkout answers are wrong area:model"))
        found = re.search(r"INC-(\d+)", answer)
        assert found, answer
        channel = fake.wait_for(lambda: channel_of(store, int(found[1])), timeout=10)
        for user, command in (
            ("U01ML2", "ack"),
            ("U01ML2", "sev P0"),
            ("U01MLLEAD", "escalate"),
            ("U01ML2", "mitigated"),
            ("U01MLLEAD", "resolve rolled back the prompt"),
        ):
            response = slack.command(command, user_id=user, channel_id=channel)
            assert response.status_code == 200, response.text
    return found[0]


def _action(run: Run, action: str) -> Line:
    """The one INFO line of `action` on the run's incident."""
    lines = [
        line
        for line in run.journey
        if line.logger == "bot.incidents.action_log" and f"{run.ref} {action}" in line.message
    ]
    assert len(lines) == 1, [line.message for line in run.journey]
    assert lines[0].level == "INFO"
    return lines[0]


def test_each_incident_action_is_one_info_line_with_ref_and_actor(run: Run) -> None:
    """Declare, ack, severity change, escalate, mitigate and resolve log one line each."""
    for action, actor in (
        ("declared", "U01ML1"),
        ("acknowledged", "U01ML2"),
        ("severity changed", "U01ML2"),
        ("escalated", "U01MLLEAD"),
        ("mitigated", "U01ML2"),
        ("resolved", "U01MLLEAD"),
    ):
        line = _action(run, action)
        assert f"by {actor}" in line.message
        if line.fields:  # LOG_FORMAT=json carries them as fields of their own
            assert line.fields["incident"] == run.ref
            assert line.fields["actor"] == actor
            assert line.fields["action"] == action.replace(" ", "_")
    assert "from P1 to P0" in _action(run, "severity changed").message
    assert "step 2 (accountable)" in _action(run, "escalated").message


@pytest.mark.parametrize("run", ["json"], indirect=True)
def test_json_lines_carry_the_fields_of_each_action(run: Run) -> None:
    """In JSON the escalation carries its step and level, the severity change both levels."""
    escalated = _action(run, "escalated").fields
    assert (escalated["escalation_step"], escalated["escalation_level"]) == (2, "accountable")
    changed = _action(run, "severity changed").fields
    assert (changed["previous_severity"], changed["severity"]) == ("P1", "P0")
    declared = _action(run, "declared").fields
    assert (declared["severity"], declared["area"]) == ("P1", "model")
    assert "Checkout answers" not in json.dumps(declared)  # users' words stay out


def test_idle_time_and_readiness_probes_log_no_library_lines(run: Run) -> None:
    """Five idle seconds and three /readyz calls add no APScheduler or alembic line."""
    assert [line for line in run.idle if line.logger.startswith(LIBRARIES)] == []
    chatter = [
        line
        for line in run.journey
        if line.logger.startswith(LIBRARIES) and line.level in ("INFO", "DEBUG")
    ]
    assert chatter == []


def test_unknown_route_and_bad_signature_are_one_warning_each(run: Run) -> None:
    """A 404 names its method and path (no query), a refused signature its reason."""
    unknown = [line for line in run.journey if "/nope" in line.message]
    assert [(line.level, line.message) for line in unknown] == [
        ("WARNING", "no route for GET /nope (404)")
    ]
    refused = [line for line in run.journey if "not signed by Slack" in line.message]
    assert [line.level for line in refused] == ["WARNING"]
    assert "/slack/events (401)" in refused[0].message
    if unknown[0].fields:
        assert (unknown[0].fields["method"], unknown[0].fields["path"]) == ("GET", "/nope")
        assert refused[0].fields["status"] == 401
    assert all("query-secret" not in line.message for line in run.journey)


def test_signed_request_no_listener_takes_is_one_warning_without_its_body(run: Run) -> None:
    """An event nobody handles logs its kind once, not Bolt's quote of the body."""
    lines = [line for line in run.journey if "no listener" in line.message]
    assert [(line.level, line.message) for line in lines] == [
        (
            "WARNING",
            "refused a request to /slack/events (404): no listener for event_callback star_added",
        )
    ]
    assert all("secret-reaction-words" not in line.message for line in run.journey)
