"""The rendered postmortem of a scripted incident, compared with golden files.

`tests/postmortem/golden/` holds the full Slack summary and the short one (text and
blocks, as JSON) and the Markdown export. After a deliberate change, rewrite them with
`FIREBELL_UPDATE_GOLDEN=1 pytest tests/postmortem/test_golden.py` and read the diff
before keeping it; docs/postmortems.md shows the same output.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.config.model import Config
from bot.postmortem.facts import Postmortem, gather
from bot.postmortem.render import markdown, short_message, summary_message
from bot.sandbox.blockkit import validate_blocks
from bot.store.db import Store
from tests.postmortem.script import scripted_incident
from tests.usecases.conftest import ManualClock

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """`text` is the golden file `name` (rewritten with FIREBELL_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if os.environ.get("FIREBELL_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def message_json(text: str, blocks: list[Block]) -> str:
    """A message as the golden files keep it."""
    shown = [b.to_dict() for b in blocks]
    return json.dumps({"text": text, "blocks": shown}, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture
def facts(db: Store, clock: ManualClock, config: Config) -> Postmortem:
    """The scripted incident's postmortem, read as it was resolved."""
    incident_id = scripted_incident(db, clock, config)
    found = db.call(gather, config, incident_id=incident_id)
    assert found is not None
    return found


def test_full_summary_of_the_scripted_incident_matches_its_golden_file(
    facts: Postmortem, config: Config
) -> None:
    """The full Slack summary says every fact of the script, and Slack would accept it."""
    text, blocks = summary_message(facts, config)
    assert validate_blocks([b.to_dict() for b in blocks]) == []
    assert_golden("summary.slack.json", message_json(text, blocks))


def test_short_summary_of_the_scripted_incident_matches_its_golden_file(
    facts: Postmortem, config: Config
) -> None:
    """The short summary is a few lines ending with the way to the incident channel."""
    text, blocks = short_message(facts, config)
    assert validate_blocks([b.to_dict() for b in blocks]) == []
    assert_golden("short.slack.json", message_json(text, blocks))


def test_markdown_export_of_the_scripted_incident_matches_its_golden_file(
    facts: Postmortem, config: Config
) -> None:
    """The Markdown export has the facts and the sections left for the team."""
    assert_golden("postmortem.md", markdown(facts, config))


DOCS = Path(__file__).parents[2] / "docs" / "postmortems.md"
GENERATED = "<!-- generated from tests/postmortem/golden by tests/postmortem/test_golden.py -->\n"
_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")


def _mrkdwn(name: str) -> str:
    """A golden message as its parts' mrkdwn, dividers as `---`, dates as their fallback."""
    blocks = json.loads((GOLDEN / name).read_text(encoding="utf-8"))["blocks"]
    parts = ["---" if b["type"] == "divider" else b["text"]["text"] for b in blocks]
    return _DATE.sub(r"\1", "\n".join(parts))


def example() -> str:
    """The example section of docs/postmortems.md, from the golden files."""
    return (
        f"{GENERATED}\n### The full summary in Slack\n\n"
        "The mrkdwn of each part, `---` for the dividers; Slack shows each time (a date token)\n"
        "in the reader's time zone, written here as its UTC fallback.\n\n"
        f"```\n{_mrkdwn('summary.slack.json')}\n```\n\n"
        "### The short summary (announcements, informed teams)\n\n"
        f"```\n{_mrkdwn('short.slack.json')}\n```\n\n"
        "### `firebell export INC-1`\n\n"
        f"````markdown\n{(GOLDEN / 'postmortem.md').read_text(encoding='utf-8')}````\n"
    )


def test_the_docs_show_the_golden_summaries() -> None:
    """docs/postmortems.md ends with the example the code renders (the golden files)."""
    docs = DOCS.read_text(encoding="utf-8")
    head = docs[: docs.index(GENERATED)] if GENERATED in docs else docs
    if os.environ.get("FIREBELL_UPDATE_GOLDEN") == "1":
        DOCS.write_text(head + example(), encoding="utf-8")
    assert DOCS.read_text(encoding="utf-8") == head + example()


README = Path(__file__).parents[2] / "README.md"


def test_the_readme_shows_the_golden_short_summary() -> None:
    """The README's example summary is the one the code renders."""
    assert f"```\n{_mrkdwn('short.slack.json')}\n```" in README.read_text(encoding="utf-8")
