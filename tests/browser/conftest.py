"""The sandbox in a real browser: `firebell serve` as a user starts it, headless Chromium.

Chromium is Debian's (`apt-get install -y chromium`), driven by Playwright. Without it
these tests are skipped, unless FIREBELL_REQUIRE_BROWSER=1 (as `.ci/run` sets) makes
that a failure. A failing test leaves a screenshot and the server's log in its pytest
temporary folder, and names both in its report.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bot.store.db import Store
from tests.serving import free_port, start_serve

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Served:
    """A `firebell serve` process and where to reach it."""

    url: str
    process: subprocess.Popen[str]
    log: Path

    def stop(self) -> int:
        """SIGTERM, as an operator stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def serve(store: Store, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start `firebell serve [args]` in an empty folder with no Slack or firebell settings
    (only the test database), as someone trying firebell would; stopped afterwards."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBELL_"))}
        env.update(DATABASE_URL=database_url, FIREBELL_PORT=str(free_port()))
        log = tmp_path / f"serve-{len(started)}.log"
        with log.open("w") as output:
            process, url = start_serve(env, *args, cwd=tmp_path, output=output)
        started.append(Served(url, process, log))
        return started[-1]

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium for one module's tests. Not for the whole session:
    Playwright's sync API keeps an event loop running until it is closed, and later
    tests that call `asyncio.run` would find it."""
    if not CHROMIUM.exists():
        reason = "Chromium is not installed: apt-get install -y chromium"
        if os.environ.get("FIREBELL_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A fresh browser tab; page errors and CSP violations fail the test."""
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        tab.screenshot(path=str(shot), full_page=True)
        report.sections.append(("browser", f"screenshot: {shot}\nserver logs: {tmp_path}"))
    context.close()
    assert problems == [], problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep the call phase's report on the test, for the `page` fixture's screenshot."""
    report = yield
    if call.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report
