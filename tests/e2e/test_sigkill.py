"""SIGKILL mid-delivery: what Slack took before the kill is not sent again, even when the
first retry after the lease fails.

Slow (about a minute): the killed process's rows are taken over only when their
production lease of 60 s runs out, which is the gap the old search (from the latest
claim, less 10 s) could not bridge.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store
from tests.e2e.scenario import outbox_rows
from tests.harness import SIGNING_SECRET
from tests.serving import e2e_env, start_serve

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(180)]

# A P2 in area data posts the main message, the page and the informed team's mirror at
# once (the paging post follows the main message in its lane).
POSTS = 3
DATA_ON_CALL = "U01DA1"


def test_posts_landed_before_a_sigkill_are_not_sent_again_when_the_first_retry_fails(
    fake: FakeSlack, store: Store, database_url: str, tmp_path: Path
) -> None:
    """Every post lands but never gets its answer; the process is killed; after the
    lease a new process's first history reads fail, and its next ones find the posts."""
    env = e2e_env(fake, database_url)
    fake.script("chat.postMessage", ["effect+timeout"] * POSTS, delay=60.0)
    killed, url = start_serve(env, cwd=tmp_path, output=subprocess.DEVNULL)
    try:
        with SlackRequests(url, SIGNING_SECRET, fake=fake) as slack:
            slack.command("declare P2 Index is stale area:data")
        fake.wait_for(lambda: len(fake.messages) >= POSTS, timeout=30)
    finally:
        killed.kill()
        killed.wait(timeout=10)
    assert not all(row.done for row in outbox_rows(store))
    fake.script("conversations.history", ["500"] * POSTS)

    again, _ = start_serve(env, cwd=tmp_path, output=subprocess.DEVNULL)
    try:
        fake.wait_for(lambda: all(r.done for r in outbox_rows(store)), timeout=100, interval=0.5)
    finally:
        again.terminate()
        again.wait(timeout=20)

    rows = outbox_rows(store)
    assert [f"{r.kind}: {r.last_error}" for r in rows if r.failed] == []
    posted = Counter(
        int(m.metadata["event_payload"]["outbox_row"]) for m in fake.messages if m.metadata
    )
    assert {row: n for row, n in posted.items() if n > 1} == {}, "posted twice"
    assert len(fake.dms_to(DATA_ON_CALL)) == 1
    assert fake.injected("conversations.history") == {"500": POSTS}
