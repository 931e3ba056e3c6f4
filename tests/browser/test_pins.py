""":pushpin: in the sandbox page: the person acting pins a message to the incident's
timeline from the message's own button, and takes it back the same way."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.core.timeline import pins
from bot.store.db import Store
from bot.store.tables import TimelineEntry
from tests.browser.conftest import Served

pytestmark = pytest.mark.browser

DECLARER = "U01PRLEAD"
CLUE = "Error rate is 12% since the 14:00 deploy"


def _pinned(store: Store) -> list[str]:
    """The texts pinned to any incident's timeline now."""
    rows = store.call(lambda s: list(s.execute(select(TimelineEntry)).scalars()))
    return [str(e.data["text"]) for e in pins(sorted(rows, key=lambda e: e.id or 0))]


def _wait_pinned(store: Store, expected: list[str]) -> None:
    """Wait until firebell has recorded what the page did (its outbox delivers it)."""
    deadline = time.monotonic() + 10
    while _pinned(store) != expected:
        assert time.monotonic() < deadline, f"pinned {_pinned(store)}, not {expected}"
        time.sleep(0.05)


def _type(page: Page, text: str) -> None:
    box = page.locator("#composer textarea")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def test_a_message_pinned_in_the_page_is_on_the_timeline_until_unpinned(
    serve: Callable[..., Served], page: Page, store: Store
) -> None:
    """Hover a message, press "Pin to the timeline": the 📌 1 shows as yours and
    `/incident timeline` quotes it; "Unpin" (from the keyboard) takes it off."""
    served = serve()
    page.goto(f"{served.url}/sandbox?as={DECLARER}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    _type(page, "/incident declare P2 Checkout quotes wrong prices service:checkout-assistant")
    page.locator('#sidebar a.channel-link[data-name^="inc-1-"]').click()
    expect(page.locator("#messages .message.pinned")).to_have_count(1)
    _type(page, CLUE)

    said = page.locator("#messages .message", has_text=CLUE).first  # the timeline quotes it
    said.hover()
    said.get_by_role("button", name="Pin to the timeline").click()
    chip = said.locator(".reaction.mine")
    expect(chip).to_have_text("📌1")
    expect(said.get_by_role("button", name="Unpin")).to_be_attached()
    _wait_pinned(store, [CLUE])

    _type(page, "/incident timeline")
    timeline = page.locator("#messages .message", has_text="Timeline of INC-1").last
    expect(timeline).to_contain_text("pinned a message by")
    expect(timeline).to_contain_text(CLUE)

    unpin = said.get_by_role("button", name="Unpin")
    unpin.focus()
    unpin.press("Enter")
    expect(said.locator(".reaction")).to_have_count(0)
    expect(said.get_by_role("button", name="Pin to the timeline")).to_be_focused()
    _wait_pinned(store, [])
    _type(page, "/incident timeline")
    latest = page.locator("#messages .message", has_text="Timeline of INC-1").last
    expect(latest).not_to_contain_text(CLUE)
