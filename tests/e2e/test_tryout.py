"""`python -m tests.tryout`: firebell served against the fake Slack, driven from a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("FIREBELL_TEST_DB", "sqlite") != "sqlite",
    reason="the try-out always runs on a SQLite file of its own",
)


def test_the_tryout_declares_pages_and_takes_an_acknowledgement_on_the_example_config() -> None:
    """Declare with the example config, acknowledge from the page's DM: the terminal shows
    the answer, the new channel, the pages and the acknowledged main message."""
    lines = [
        "/incident declare P1 Checkout answers are <!channel> wrong service:checkout-assistant",
        "as U01MLLEAD",
        "press Acknowledge",
        "press Nothing",
        "in #nowhere",
        "quit",
    ]
    result = subprocess.run(  # noqa: S603 - our own interpreter, module and lines
        [sys.executable, "-m", "tests.tryout", *lines],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "only you see: :rotating_light: INC-1 declared (P1)" in out
    assert "new channel #inc-1-checkout-answers-are-channel-wrong" in out
    assert "[DM to U01MLLEAD] posted: :rotating_light: You are paged for *INC-1*" in out
    assert "<!channel>" not in out.split("> as U01MLLEAD")[0].split("declared (P1)")[1]
    after_ack = out.split("> press Acknowledge")[1]
    assert "P1 acknowledged" in after_ack
    assert "<@U01MLLEAD> acknowledged INC-1" in after_ack
    assert "no 'Nothing' button here or in your DMs" in out
    assert "no channel '#nowhere'" in out
