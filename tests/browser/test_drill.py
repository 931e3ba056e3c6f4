"""`firebell serve --drill P1 --speed N`: a rehearsal that escalates in seconds."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Served

pytestmark = pytest.mark.browser

CONSULTED = "U01DA1"  # the data team, consulted on the model area: paged at level 3


def test_a_drill_declares_and_escalates_to_everyone_at_the_sped_up_pace(
    serve: Callable[..., Served], page: Page
) -> None:
    """With an hour a second, the drill's P1 goes unacknowledged past its deadline and
    escalation reaches the consulted team within seconds; the page shows the clock."""
    served = serve("--drill", "P1", "--speed", "3600")
    page.goto(f"{served.url}/sandbox?as={CONSULTED}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    clock = page.locator("#drill-clock")
    expect(clock).to_be_visible()
    expect(clock).to_contain_text("Drill P1")
    expect(clock).to_contain_text("INC-1")
    expect(clock).to_contain_text(re.compile(r"T\+\d"))

    dm = page.locator("#sidebar a.dm-link")
    expect(dm).to_have_count(1, timeout=30_000)
    dm.click()
    expect(page.locator("#messages .message", has_text="INC-1").first).to_be_visible()
    expect(
        page.locator("#messages .message .bk-button", has_text="Acknowledge").first
    ).to_be_visible()
    assert "every duration of the config is divided by 3600" in served.log.read_text()
