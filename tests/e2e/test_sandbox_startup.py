"""Which Slack `firebell serve` talks to: the sandbox without settings, Slack with them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx

from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from tests.serving import ROOT, e2e_env, free_port, start_serve


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, printed = process.communicate(timeout=20)
    return process.returncode, printed


def _bare_env(database_url: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBELL_"))}
    env.pop("DATABASE_URL", None)
    env.update(FIREBELL_PORT=str(free_port()), **more)
    return env


def test_a_fresh_folder_with_the_example_env_file_serves_the_sandbox(
    tmp_path: Path,
) -> None:
    """`.env` copied from `.env.example` (placeholders, default paths) and nothing else:
    the sandbox starts with the shipped config and runbooks and a temporary database,
    and says where its page is."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = _bare_env("")
    process, url = start_serve(env, cwd=tmp_path, output=subprocess.PIPE, ready="/sandbox")
    page = httpx.get(f"{url}/sandbox", timeout=5)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    status, printed = _stop(process)
    assert status == 0
    assert f"sandbox: open {url}/sandbox in a browser" in printed
    assert "using the example config shipped with firebell" in printed
    assert "using the shipped runbooks" in printed
    assert "temporary file" in printed
    assert not (tmp_path / "firebell.db").exists()


def test_the_sandbox_option_wins_over_slack_settings_and_never_calls_slack(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> None:
    """`--sandbox` with a bot token and secret set serves the sandbox: the configured
    Slack (here a fake standing in for it) gets no call, and the secrets stay unlogged."""
    env = e2e_env(fake, database_url)
    process, url = start_serve(env, "--sandbox", cwd=tmp_path, ready="/sandbox")
    state = httpx.get(f"{url}/sandbox/api/state", timeout=5).json()
    assert state["workspace"] == "firebell sandbox"
    status, printed = _stop(process)
    assert status == 0
    assert fake.calls == []
    assert env["SLACK_SIGNING_SECRET"] not in printed


def test_with_slack_settings_serve_talks_to_slack_and_has_no_sandbox(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> None:
    """A real token starts the real thing, exactly as before: no page at /sandbox."""
    process, url = start_serve(e2e_env(fake, database_url), cwd=tmp_path)
    assert httpx.get(f"{url}/sandbox", timeout=5).status_code == 404
    status, printed = _stop(process)
    assert status == 0
    assert "sandbox: open" not in printed
