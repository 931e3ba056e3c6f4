"""Runbook steps and a rollback in the sandbox page, through the shipped config."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Served

pytestmark = pytest.mark.browser
LEAD = "U01MLLEAD"  # accountable for the model area: may roll checkout-assistant back


def test_runbook_steps_tick_and_a_rollback_is_confirmed_and_reported(
    serve: Callable[..., Served], page: Page
) -> None:
    """The Runbook button posts tickable steps that stay ticked; Rollback shows the
    versions, and its outcome (from the sandbox's pipeline) arrives in the channel."""
    served = serve()
    page.goto(f"{served.url}/sandbox?as={LEAD}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.locator('#sidebar a.channel-link[data-name="general"]').click()
    box = page.locator("#composer textarea")
    box.fill("/incident declare P1 Answers quote old prices service:checkout-assistant")
    box.press("Enter")
    page.locator('#sidebar a.channel-link[data-name^="inc-1-"]').click()
    pinned = page.locator("#messages .message.pinned")
    expect(pinned).to_contain_text("v1.5.0 (rollback target v1.4.0)")

    pinned.locator("button.bk-button", has_text="Runbook").click()
    steps = page.locator("#messages .bk-checkboxes").first
    expect(steps).to_be_visible()
    first = steps.locator("input[type=checkbox]").first
    first.check()
    steps_message = page.locator("#messages .message", has=page.locator(".bk-checkboxes"))
    expect(steps_message.first).to_contain_text(re.compile(r"1 of \d+ done"))
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#messages .bk-checkboxes").first.locator("input").first).to_be_checked()

    pinned.locator("button.bk-button", has_text="Rollback").click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(page.locator("#modal-body")).to_contain_text("v1.5.0")
    expect(page.locator("#modal-body")).to_contain_text("v1.4.0")
    page.locator("#modal-submit").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#messages")).to_contain_text("succeeded")
    expect(pinned).to_contain_text("checkout-assistant production: v1.4.0", timeout=15_000)
