"""The checklist in words: every finding has a sentence on both surfaces, Slack's
blocks validate, and names from the config are escaped."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.governance.checklist import DrillRun, Item, evaluate
from bot.governance.gather import Checklist
from bot.governance.render import (
    SLACK,
    TERMINAL,
    json_readiness,
    slack_readiness,
    terminal_readiness,
    wording,
)
from tests.unit.test_readiness_checklist import (
    BARE,
    BOTH,
    FULL,
    FULL_CONFIG,
    NOW,
    config_of,
    facts,
    signed,
)


def every_finding() -> list[Item]:
    """Items of many situations: bare, full, signed, stale, drilled, failed."""
    stale = config_of(FULL.replace("5%", "6%"))
    variants = [
        facts(config_of(BARE)),
        facts(FULL_CONFIG),
        facts(FULL_CONFIG, signoffs=signed(FULL_CONFIG, *BOTH), failure_cases=2),
        facts(stale, signoffs=signed(FULL_CONFIG, *BOTH), runbooks=("svc-runbook",)),
        facts(FULL_CONFIG, last_drill=DrillRun(NOW - timedelta(days=1), "succeeded")),
        facts(FULL_CONFIG, last_drill=DrillRun(NOW - timedelta(days=9), "succeeded")),
        facts(FULL_CONFIG, last_drill=DrillRun(NOW, "failed"), review_channel="C0REVIEW"),
        facts(FULL_CONFIG, area=None, runbooks_absent=("gone",)),
    ]
    return [item for variant in variants for item in evaluate(variant)]


def test_every_finding_reads_as_a_sentence_with_what_to_do() -> None:
    """Each item found has a sentence; what is not done also says what to do."""
    items = every_finding()
    assert len({i.reason for i in items}) >= 25
    for item in items:
        for style in (SLACK, TERMINAL):
            said, todo = wording(item, "svc", style)
            assert said.endswith((".", ")", ">")) or said.startswith("http"), (item, said)
            assert (todo is None) == (item.status == "done"), item


def test_slack_blocks_validate_and_escape_the_service_name() -> None:
    """A service named `<!channel>` is escaped in every block; the blocks validate."""
    found = Checklist("<!channel>", "beta", every_finding()[:11], NOW)
    text, blocks = slack_readiness(
        found, viewer="U01LEGAL", stakeholders={"legal": "U01LEGAL"}, dashboard="https://d.example"
    )
    shown = [
        b.to_dict() for b in blocks[1:] if b.type != "actions"
    ]  # a button's value is not shown
    rendered = json.dumps(shown)
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in text
    for block in blocks:
        block.validate_json()
    assert len(blocks) <= 50


def test_json_output_is_machine_readable() -> None:
    """`--json` carries each item's key, status, reason, facts and sentences."""
    found = Checklist("svc", None, evaluate(facts(FULL_CONFIG)), NOW)
    data = json.loads(json_readiness([found]))
    [service] = data["services"]
    assert (service["stage"], service["total"]) == (None, 11)
    first = service["items"][0]
    assert set(first) == {"key", "title", "status", "reason", "facts", "detail", "todo"}
    assert first["facts"]["unsigned"] == {"legal": "U01LEGAL", "business": "U01BIZ"}
    assert "svc (stage: internal, not set in the config)" in terminal_readiness([found])
