"""`firebell serve` as a real process against the fake Slack (tests and the try-out)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from bot.sandbox.fake import FakeSlack
from tests.harness import SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(
    fake: FakeSlack,
    *,
    signing_secret: str,
    database_url: str,
    config: Path,
    runbooks: Path,
    **more: str,
) -> dict[str, str]:
    """This process's environment without its Slack and firebell settings, plus the
    fake's, the database, the config and a free `FIREBELL_PORT` (and `more`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBELL_"))}
    env.update(
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=database_url,
        FIREBELL_CONFIG=str(config),
        FIREBELL_RUNBOOKS=str(runbooks),
        FIREBELL_PORT=str(free_port()),
        **more,
    )
    return env


def e2e_env(fake: FakeSlack, database_url: str, **more: str) -> dict[str, str]:
    """`serve_env` with the e2e config, the shipped runbooks and the test signing secret."""
    return serve_env(
        fake,
        signing_secret=SIGNING_SECRET,
        database_url=database_url,
        config=ROOT / "tests" / "configs" / "e2e.yaml",
        runbooks=ROOT / "runbooks",
        **more,
    )


def run_serve(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`firebell serve [args]` with `env`, run to its end (30 s at most), output captured."""
    return subprocess.run(  # noqa: S603 - our own interpreter, module and arguments
        [sys.executable, "-m", "bot", "serve", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def start_serve(
    env: dict[str, str],
    *args: str,
    cwd: Path | None = None,
    output: int | IO[str] = subprocess.PIPE,
    timeout: float = 30.0,
    ready: str = "/readyz",
) -> tuple[subprocess.Popen[str], str]:
    """Start `firebell serve [args]` with `env`; return it and its base URL once
    `ready` (a path) answers 200. If it exits first, or is not ready within `timeout`
    (it is then killed), raise RuntimeError with what it printed to a pipe."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, module and arguments
        [sys.executable, "-m", "bot", "serve", *args],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=output,
        text=True,
    )
    url = f"http://127.0.0.1:{env['FIREBELL_PORT']}"
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            if httpx.get(f"{url}{ready}", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            _, printed = process.communicate()
            raise RuntimeError(f"firebell serve was not ready after {timeout:g} s{_tail(printed)}")
        time.sleep(0.1)
    _, printed = process.communicate()
    raise RuntimeError(f"firebell serve exited with status {process.returncode}{_tail(printed)}")


def _tail(printed: str | None) -> str:
    return f":\n{printed}" if printed else ""
