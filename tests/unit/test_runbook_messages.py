"""Runbooks in words and Block Kit: the main message's list, posted parts, steps, timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config.model import Config
from bot.messages import events
from bot.messages.incident import main_message
from bot.messages.runbooks import (
    RUNBOOK_BUTTON,
    STEPS_ACTION,
    StepsBlock,
    part_count,
    review_reminder,
    runbook_part,
)
from bot.runbooks import Runbook, load_runbooks, runbook_steps
from bot.sandbox.blockkit import validate_blocks
from bot.store.tables import Incident, TimelineEntry

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = load_runbooks(ROOT / "runbooks")
DECLARED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _incident(**fields: Any) -> Incident:
    values: dict[str, Any] = {
        "id": 7,
        "number": 7,
        "title": "Checkout answers are wrong",
        "severity": "P1",
        "area": "model",
        "area_name": "Model/Prompt",
        "service": "checkout-assistant",
        "declared_by": "U0OTHER",
        "declared_at": DECLARED,
        "channel_name": "inc-7-checkout",
    }
    return Incident(**{**values, **fields})


def _json(blocks: list[Any]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _runbook(text: str, name: str = "big") -> Runbook:
    return Runbook(name=name, title="Big <one>", path=Path(f"{name}.md"), text=text)


def _long_text() -> str:
    """Over 12,000 characters, with a code block straddling the 12,000th."""
    paragraph = "Look at the dashboards and write down what you see, with the time. " * 3
    prose = "# Big\n\n" + "".join(f"{paragraph}{i}\n\n" for i in range(56))
    code = "```sh\n" + "kubectl -n prod get pods --selector app=checkout\n" * 30 + "```\n\n"
    steps = "".join(f"- [ ] Step number {i} of the big runbook\n" for i in range(23))
    return prose + code + "## After\n\n" + paragraph + "\n\n" + steps


def test_the_main_message_lists_the_best_three_runbooks_linked_and_has_a_runbook_button(
    config: Config,
) -> None:
    """Service's runbook first, then the general ones, linked under `runbooks_url`."""
    linked = config.model_copy(update={"runbooks_url": "https://git.example.com/runbooks/"})
    _, blocks = main_message(_incident(), linked, runbooks=RUNBOOKS)
    shown = _json(blocks)
    listed = next(b["text"]["text"] for b in shown if "*Runbooks*" in str(b.get("text")))
    assert listed.count("<https://git.example.com/runbooks/") == 3
    assert listed.index("model-quality-regression.md|Model quality regression>") < listed.index(
        "incident-response.md|Incident response>"
    )
    actions = next(b for b in shown if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]][-1] == RUNBOOK_BUTTON
    assert actions["elements"][-1]["text"]["text"] == "Runbook"
    assert validate_blocks(shown) == []


def test_without_a_matching_runbook_the_main_message_has_no_runbook_button(
    config: Config,
) -> None:
    """No runbooks, no list and no `Runbook` button."""
    _, blocks = main_message(_incident(), config, runbooks={})
    shown = _json(blocks)
    assert "*Runbooks*" not in str(shown)
    assert RUNBOOK_BUTTON not in str(shown)


def test_a_runbook_posts_its_text_as_markdown_then_its_steps_as_checkboxes(
    config: Config,
) -> None:
    """The model runbook: one markdown message, then ten steps an element, initial ticks."""
    runbook = RUNBOOKS["model-quality-regression"]
    steps = runbook_steps(runbook.text, first_line=runbook.body_line)
    assert part_count(runbook) == 2
    first = runbook_part(runbook, config, part=0, incident_id=7, ticked=())
    assert first is not None
    assert [b["type"] for b in _json(first[1])] == ["markdown"]
    ticked = {steps[0].key, steps[11].key}
    second = runbook_part(runbook, config, part=1, incident_id=7, ticked=ticked)
    assert second is not None
    shown = _json(second[1])
    assert validate_blocks(shown) == []
    elements = [b["elements"][0] for b in shown if b["type"] == "actions"]
    assert [len(e["options"]) for e in elements] == [10, len(steps) - 10]
    assert {e["action_id"] for e in elements} == {STEPS_ACTION}
    assert [o["value"] for e in elements for o in e.get("initial_options", [])] == [
        steps[0].key,
        steps[11].key,
    ]
    block_ids = [b["block_id"] for b in shown if b["type"] == "actions"]
    assert [StepsBlock.parse(i) for i in block_ids] == [
        StepsBlock(7, runbook.name, 0),
        StepsBlock(7, runbook.name, 1),
    ]
    assert "2 of 14 done" in second[0]
    assert runbook_part(runbook, config, part=2, incident_id=7, ticked=()) is None


def test_a_runbook_longer_than_12000_characters_posts_as_several_valid_messages(
    config: Config,
) -> None:
    """Each piece fits Slack's markdown limit, and the code block at the cut stays whole."""
    runbook = _runbook(_long_text())
    assert len(runbook.text) > 12_000
    count = part_count(runbook)
    parts = [runbook_part(runbook, config, part=p, incident_id=7, ticked=()) for p in range(count)]
    texts = []
    for part in parts:
        assert part is not None
        shown = _json(part[1])
        assert validate_blocks(shown) == []
        texts += [b["text"] for b in shown if b["type"] == "markdown"]
    assert len(texts) == 2
    assert all(len(text) <= 12_000 for text in texts)
    assert all(text.count("```") % 2 == 0 for text in texts)
    assert texts[1].startswith("```sh\n")
    assert "".join(texts) == runbook.text


def test_long_step_texts_are_cut_to_the_option_limit(config: Config) -> None:
    """A step longer than 75 characters is shortened in its checkbox, and still valid."""
    runbook = _runbook("- [ ] " + "check every single dashboard " * 5 + "\n")
    part = runbook_part(runbook, config, part=1, incident_id=7, ticked=())
    assert part is not None
    shown = _json(part[1])
    assert validate_blocks(shown) == []
    option = shown[1]["elements"][0]["options"][0]["text"]["text"]
    assert len(option) == 75
    assert option.endswith("…")


def test_the_source_link_is_on_the_first_part_when_runbooks_url_is_set(config: Config) -> None:
    """`runbooks_url` + name + `.md`, in a context block under the text."""
    linked = config.model_copy(update={"runbooks_url": "https://git.example.com/rb"})
    part = runbook_part(RUNBOOKS["rollback"], linked, part=0, incident_id=7, ticked=())
    assert part is not None
    assert "<https://git.example.com/rb/rollback.md|rollback.md>" in str(_json(part[1]))


def test_a_block_id_that_is_not_a_runbooks_is_not_read_as_one() -> None:
    """Other block ids, and crafted ones, parse to nothing."""
    assert StepsBlock.parse("incident-7") is None
    assert StepsBlock.parse("rb:x:0:name") is None
    assert StepsBlock.parse("rb:7:0:") is None
    assert StepsBlock.parse("rb:7:1:a:b") == StepsBlock(7, "a:b", 1)


def test_a_tick_on_the_timeline_says_who_which_step_and_escapes_it(config: Config) -> None:
    """`@U ticked “...” in runbook `x``, with the step's words escaped."""
    entry = TimelineEntry(
        incident_id=7,
        at=DECLARED,
        actor="U01ML1",
        kind="runbook_step",
        data={
            "runbook": "rollback",
            "step": "s1",
            "text": "Page <!channel> & wait",
            "ticked": True,
        },
    )
    line = events.line(entry, _incident(), config)
    assert line == "<@U01ML1> ticked “Page &lt;!channel&gt; &amp; wait” in runbook `rollback`"
    unticked = entry.model_copy(update={"data": {**entry.data, "ticked": False}})
    assert "unticked" in events.line(unticked, _incident(), config)


def test_a_review_reminder_names_the_runbook_its_last_review_and_cycle(config: Config) -> None:
    """The reminder says when it was reviewed and how often it should be."""
    text = review_reminder(
        config, "rollback", title="Roll <back>", reviewed=date(2026, 1, 2), every=timedelta(days=90)
    )
    assert "*Roll &lt;back&gt;*" in text
    assert "2026-01-02" in text
    assert "90d" in text
