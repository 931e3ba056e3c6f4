"""`firebell serve` start-up and shutdown as a real process: the port first, then the
migration, then the workers; Socket Mode connects in the background with Slack away;
SIGTERM and SIGINT stop it within seconds at any moment."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.fakesocket import FakeSocketMode
from tests.serving import e2e_env, free_port, run_serve, start_serve

MIGRATION_LOCK = 0x66697265  # bot.store.migrate's advisory lock
STOPPED_WITHIN = 5.0  # seconds from the signal to the exit


def _env(fake: FakeSlack, database_url: str, **more: str) -> dict[str, str]:
    return e2e_env(fake, database_url, LOG_FORMAT="json", **more)


def _records(log: Path) -> list[dict[str, object]]:
    """The JSON log records written so far (each line must be one)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _wait_for(condition: Callable[[], object], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)


def _logged(log: Path, text: str) -> Callable[[], bool]:
    return lambda: text in log.read_text()


def _stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> float:
    """Send `signum`; the seconds until the process exited (killed after 20)."""
    started = time.monotonic()
    process.send_signal(signum)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return time.monotonic() - started


@contextmanager
def _serving(
    env: dict[str, str], log: Path, *args: str, ready: str = "/healthz"
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`firebell serve` logging to `log`, once `ready` answers; killed if still running."""
    with log.open("w") as output:
        process, url = start_serve(env, *args, cwd=log.parent, output=output, ready=ready)
        try:
            yield process, url
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_serve_on_a_port_in_use_exits_at_once_with_one_line_and_migrates_nothing(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """A taken port: status 2, one line naming the port, and no database created."""
    database = tmp_path / "untouched.db"
    env = _env(fake, f"sqlite:///{database}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["FIREBELL_PORT"])))
        taken.listen()
        result = run_serve(env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{env['FIREBELL_PORT']}" in result.stderr
    assert not database.exists()


def test_socket_mode_with_slack_unreachable_serves_health_and_stops_on_sigterm(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> None:
    """Slack's Web API away: /healthz answers, /readyz says "not connected to Slack",
    each attempt is one WARNING line without a traceback, and SIGTERM stops it in time."""
    env = _env(fake, database_url, SLACK_APP_TOKEN=fake.app_token)
    env["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    log = tmp_path / "serve.log"
    with _serving(env, log, "--socket-mode") as (process, url):
        _wait_for(_logged(log, "(attempt 2)"), "a second connection attempt")
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        readiness = httpx.get(f"{url}/readyz", timeout=5)
        assert readiness.status_code == 503
        assert readiness.json()["reason"] == "not connected to Slack"
        took = _stop(process)
    assert process.returncode == 0
    assert took < STOPPED_WITHIN
    records = _records(log)
    attempts = [r for r in records if "cannot connect to Slack over Socket Mode" in str(r)]
    assert len(attempts) >= 2
    assert all(r["level"] == "warning" and "exception" not in r for r in attempts)
    assert not [r for r in records if "exception" in r]
    assert "firebell stopped cleanly" in log.read_text()
    assert fake.app_token not in log.read_text()


def test_socket_mode_refused_then_accepted_becomes_ready(
    fake: FakeSlack,
    store: Store,
    database_url: str,
    tmp_path: Path,
    socket_mode: FakeSocketMode,
) -> None:
    """While Slack refuses the WebSocket /readyz is 503; once it accepts, 200."""
    socket_mode.behaviour = "refuse"
    env = _env(fake, database_url, SLACK_APP_TOKEN=fake.app_token)
    log = tmp_path / "serve.log"
    with _serving(env, log, "--socket-mode") as (process, url):
        socket_mode.wait_attempts(2)
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 503
        assert "WebSocket refused: HTTP 503" in log.read_text()
        socket_mode.behaviour = "accept"
        socket_mode.wait_connected(timeout=15)
        _wait_for(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 200, "/readyz 200")
        took = _stop(process)
    assert process.returncode == 0
    assert took < STOPPED_WITHIN
    assert "connected to Slack over Socket Mode (attempt" in log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.usefixtures("store")
def test_a_stop_signal_ends_serve_while_the_websocket_handshake_hangs(
    fake: FakeSlack,
    database_url: str,
    tmp_path: Path,
    socket_mode: FakeSocketMode,
    signum: int,
) -> None:
    """A Socket Mode endpoint that never answers: the signal still stops it in seconds."""
    socket_mode.behaviour = "silent"
    env = _env(fake, database_url, SLACK_APP_TOKEN=fake.app_token)
    log = tmp_path / "serve.log"
    with _serving(env, log, "--socket-mode") as (process, url):
        socket_mode.wait_attempts(1)
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 503
        took = _stop(process, signum)
    assert process.returncode == 0
    assert took < STOPPED_WITHIN
    assert "firebell stopped cleanly" in log.read_text()


@contextmanager
def _migration_blocked(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database URL whose migration waits on a lock held here until the block ends:
    PostgreSQL's migration lock, or an exclusive lock on a fresh SQLite file."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "locked.db"
        lite = sqlite3.connect(path, isolation_level=None)
        lite.execute("CREATE TABLE held (x)")
        lite.execute("BEGIN EXCLUSIVE")
        try:
            yield f"sqlite:///{path}"
        finally:
            lite.close()
        return
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        yield database_url


def test_sigterm_while_the_migration_waits_for_a_lock_stops_serve_in_seconds(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> None:
    """The port is bound and the migration is stuck behind a lock: SIGTERM still ends it
    cleanly within seconds, and nothing after the migration was started."""
    log = tmp_path / "serve.log"
    with _migration_blocked(database_url, tmp_path) as url, log.open("w") as output:
        env = _env(fake, url)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=output,
            text=True,
        )
        try:
            _wait_for(_logged(log, "listening on"), "the port to be bound")
            with socket.create_connection(("127.0.0.1", int(env["FIREBELL_PORT"])), timeout=5):
                pass  # bound before the migration
            time.sleep(0.5)
            took = _stop(process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0
    assert took < STOPPED_WITHIN
    text = log.read_text()
    assert "stopped while waiting for the database migration" in text
    assert "firebell is up" not in text
