"""`firebell serve` as a real process: migrates, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store
from tests.fakesocket import FakeSocketMode, slash_command
from tests.harness import SIGNING_SECRET
from tests.serving import e2e_env, start_serve


def _env(fake: FakeSlack, database_url: str, **more: str) -> dict[str, str]:
    return e2e_env(fake, database_url, LOG_FORMAT="json", **more)


@pytest.fixture
def served(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A `firebell serve` subprocess against the fake Slack, and its base URL."""
    process, url = start_serve(_env(fake, database_url), cwd=tmp_path)
    yield process, url
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_serve_declares_and_stops_cleanly_on_sigterm(
    served: tuple[subprocess.Popen[str], str], fake: FakeSlack
) -> None:
    """A declaration goes through the real process; SIGTERM ends it with status 0."""
    process, url = served
    with SlackRequests(url, SIGNING_SECRET, fake=fake) as slack:
        answer = slack.command("declare P1 Checkout answers are wrong area:model")
    assert "INC-" in answer.json()["text"]
    fake.wait_for(lambda: fake.dms_to("U01MLLEAD"), timeout=10)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "firebell stopped cleanly" in stderr
    assert fake.bot_token not in stderr
    assert SIGNING_SECRET not in stderr


def test_serve_in_socket_mode_answers_over_the_websocket(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> None:
    """`firebell serve --socket-mode` with SLACK_APP_TOKEN: a command arriving over the
    WebSocket is acked with its incident, and the HTTP endpoints still answer."""
    endpoint = FakeSocketMode().start()
    fake.socket_url = endpoint.url
    process: subprocess.Popen[str] | None = None
    try:
        process, url = start_serve(
            _env(fake, database_url, SLACK_APP_TOKEN=fake.app_token),
            "--socket-mode",
            cwd=tmp_path,
        )
        endpoint.wait_connected()
        ack = endpoint.deliver(
            "slash_commands",
            slash_command(
                "declare P1 Search is empty area:data",
                user_id="U01DA1",
                trigger_id="1.2.process",
                response_url=fake.response_url(),
            ),
        )
        assert "INC-1" in ack["payload"]["text"]
        fake.wait_for(lambda: fake.dms_to("U01DALEAD"), timeout=10)
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0
        assert "firebell stopped cleanly" in stderr
        assert fake.app_token not in stderr
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.communicate()
        endpoint.stop()


def test_serve_reports_its_own_slis_on_metrics(
    served: tuple[subprocess.Popen[str], str], database_url: str
) -> None:
    """The real process answers /metrics in Prometheus' text format, and stops quietly."""
    process, url = served
    response = httpx.get(f"{url}/metrics", timeout=5)
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    for name in ("firebell_outbox_pending", "firebell_outbox_failed", "firebell_deliveries_total"):
        assert f"# TYPE {name} " in response.text
    assert "\nfirebell_database_up 1.0\n" in response.text
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "will be unused" not in stderr  # Bolt's notice about SLACK_BOT_TOKEN, by design


def test_serve_migrates_an_empty_sqlite_database(fake: FakeSlack, tmp_path: Path) -> None:
    """On a fresh machine `firebell serve` creates and migrates its database, then is ready."""
    process, _ = start_serve(_env(fake, f"sqlite:///{tmp_path / 'fresh.db'}"), cwd=tmp_path)
    process.terminate()
    process.communicate(timeout=20)
    assert process.returncode == 0
