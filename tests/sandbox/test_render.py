"""Block Kit to HTML: one golden file per block type or case, and firebell's own messages.

Each case's HTML is compared exactly with `tests/sandbox/golden/<case>.html`. After a
deliberate change, rewrite the goldens with `FIREBELL_UPDATE_GOLDEN=1 pytest
tests/sandbox/test_render.py` and read the diff before keeping it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.config.model import Config
from bot.messages.forms import declare_modal
from bot.messages.incident import ACK, ESCALATE, RESOLVE, main_message
from bot.sandbox.mrkdwn import NameTable
from bot.sandbox.render import render_blocks
from bot.sandbox.render_view import render_view, view_close_label, view_submit_label, view_title
from bot.store.tables import Incident

GOLDEN = Path(__file__).parent / "golden"
NAMES = NameTable(users={"U1": "Ada"}, channels={"C1": "general"}, usergroups={"S1": "oncall"})
HOSTILE = '<script>alert("x")</script>'


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def option(value: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "text": plain(text), **extra}


def assert_golden(case: str, html: str) -> None:
    path = GOLDEN / f"{case}.html"
    if os.environ.get("FIREBELL_UPDATE_GOLDEN") == "1":
        path.write_text(html + "\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8") == html + "\n"


CONFIRM = {
    "title": plain("Resolve this incident?"),
    "text": mrkdwn('*INC-7* will be closed & "summarised"'),
    "confirm": plain("Resolve"),
    "deny": plain("Not yet"),
    "style": "danger",
}
BLOCKS: dict[str, list[dict[str, Any]]] = {
    "header": [{"type": "header", "text": plain(f"INC-7 · P1 · {HOSTILE}")}],
    "section_text": [{"type": "section", "text": mrkdwn("*Checkout* is <!here> wrong")}],
    "section_plain_text": [{"type": "section", "text": plain("*as typed*\n<b>")}],
    "section_fields": [
        {
            "type": "section",
            "fields": [mrkdwn("*Severity*\nP1"), mrkdwn("*Lead*\n<@U1>"), plain("a & b")],
        }
    ],
    "section_accessory_button": [
        {
            "type": "section",
            "block_id": "b1",
            "text": mrkdwn("Open the runbook"),
            "accessory": {
                "type": "button",
                "action_id": "open",
                "text": plain("Runbook"),
                "url": "https://runbooks.test/checkout?a=1&b=2",
                "value": "r1",
            },
        }
    ],
    "section_accessory_image": [
        {
            "type": "section",
            "text": mrkdwn("graph"),
            "accessory": {
                "type": "image",
                "image_url": "https://x.test/g.png",
                "alt_text": HOSTILE,
            },
        }
    ],
    "section_accessory_overflow": [
        {
            "type": "section",
            "block_id": "b2",
            "text": mrkdwn("more"),
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [option("a", "Archive"), option("m", "Mute")],
            },
        }
    ],
    "context": [
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "https://x.test/i.png", "alt_text": "icon"},
                mrkdwn("Join <#C1> to help"),
                plain("plain <x>"),
            ],
        }
    ],
    "divider": [{"type": "divider"}],
    "actions_buttons": [
        {
            "type": "actions",
            "block_id": "incident-7",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ack",
                    "text": plain("Acknowledge"),
                    "value": "7",
                    "style": "primary",
                },
                {"type": "button", "action_id": "esc", "text": plain("Escalate"), "value": "7"},
                {
                    "type": "button",
                    "action_id": "res",
                    "text": plain("Resolve"),
                    "value": '7"><script>',
                    "style": "danger",
                    "confirm": CONFIRM,
                },
                {
                    "type": "button",
                    "action_id": "bad",
                    "text": plain("Bad link"),
                    "url": "javascript:alert(1)",
                    "style": "red; color: blue",
                },
            ],
        }
    ],
    "actions_static_select": [
        {
            "type": "actions",
            "block_id": "sev",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "placeholder": plain("Severity"),
                    "option_groups": [
                        {"label": plain("Urgent"), "options": [option("P1", "P1 · Critical")]},
                        {"label": plain("Later"), "options": [option("P3", "P3 <minor>")]},
                    ],
                    "initial_option": option("P3", "P3 <minor>"),
                },
                {
                    "type": "static_select",
                    "action_id": "plain",
                    "placeholder": plain("Pick one"),
                    "options": [option("a", "A"), option("b", "B")],
                },
            ],
        }
    ],
    "actions_checkboxes": [
        {
            "type": "actions",
            "block_id": "todo",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": "steps",
                    "options": [
                        {"value": "rollback", "text": mrkdwn("*Roll back*")},
                        {
                            "value": "notify",
                            "text": plain("Notify"),
                            "description": mrkdwn("tell <!subteam^S1>"),
                        },
                    ],
                    "initial_options": [{"value": "notify", "text": plain("Notify")}],
                }
            ],
        }
    ],
    "markdown": [
        {
            "type": "markdown",
            "text": (
                "# Title\n## Sub\n### Small\nA **bold** and *italic* `co*de*` "
                "[docs](https://d.test/?a=1&b=2) [bad](javascript:alert(1)) <b>\n\n"
                "- one\n- [ ] todo\n- [x] done\n\n1. first\n2. second\n\n"
                "```\n<script>**x**\n```\n> quoted"
            ),
        }
    ],
    "rich_text": [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi ", "style": {"bold": True}},
                        {"type": "user", "user_id": "U1"},
                        {"type": "text", "text": " in "},
                        {"type": "channel", "channel_id": "C1"},
                        {"type": "text", "text": " cc "},
                        {"type": "usergroup", "usergroup_id": "S1"},
                        {"type": "broadcast", "range": "here"},
                        {"type": "emoji", "name": "fire"},
                        {"type": "text", "text": "x", "style": {"italic": True, "strike": True}},
                        {"type": "text", "text": "y<z>", "style": {"code": True}},
                        {"type": "link", "url": "https://l.test", "text": "link"},
                        {"type": "link", "url": "javascript:alert(1)", "text": "nolink"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "indent": 1,
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]},
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "b"}]},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "c"}]}
                    ],
                },
                {
                    "type": "rich_text_preformatted",
                    "elements": [
                        {"type": "text", "text": "<pre>\n  kept", "style": {"bold": True}}
                    ],
                },
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "wise"}]},
            ],
        }
    ],
    "image": [
        {
            "type": "image",
            "image_url": "https://x.test/a.png",
            "alt_text": 'a "graph"',
            "title": plain("Latency"),
        }
    ],
    "image_not_https": [
        {"type": "image", "image_url": "http://x.test/a.png", "alt_text": "insecure"}
    ],
    "input_in_message": [
        {
            "type": "input",
            "block_id": "note",
            "label": plain("Note"),
            "element": {"type": "plain_text_input", "action_id": "v"},
        }
    ],
    "unknown": [{"type": f"video{HOSTILE}"}, {"no": "type"}, "not a block"],  # type: ignore[list-item]
}


@pytest.mark.parametrize("case", sorted(BLOCKS))
def test_block_renders_as_its_golden_html(case: str) -> None:
    """Each block type renders exactly as its golden file."""
    assert_golden(case, render_blocks(BLOCKS[case], NAMES))


def test_a_message_without_blocks_renders_its_text_as_mrkdwn() -> None:
    """No blocks: the fallback text, formatted."""
    assert_golden("fallback_text", render_blocks([], NAMES, fallback_text="*INC-7* <@U1>"))


DECLARE_LIKE: dict[str, Any] = {
    "type": "modal",
    "title": plain("Declare an incident"),
    "submit": plain("Declare"),
    "blocks": [
        {"type": "header", "text": plain("New incident")},
        {
            "type": "input",
            "block_id": "title",
            "label": plain("Title"),
            "hint": plain("What users see"),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "placeholder": plain('e.g. "prices wrong"'),
                "initial_value": "old",
                "max_length": 200,
                "min_length": 3,
            },
        },
        {
            "type": "input",
            "block_id": "description",
            "label": plain("What is happening?"),
            "optional": True,
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": "2900",
            },
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": plain("Severity"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [option("P1", "P1"), option("P2", "P2")],
                "initial_option": option("P2", "P2"),
            },
        },
        {
            "type": "input",
            "block_id": "kind",
            "label": plain("Kind"),
            "element": {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [option("outage", "Outage"), option("wrong", "Wrong answers")],
            },
        },
        {
            "type": "input",
            "block_id": "when",
            "label": plain("Since"),
            "element": {"type": "datepicker", "action_id": "value"},
        },
    ],
}


def test_a_modal_renders_its_inputs_as_named_controls() -> None:
    """Inputs carry `block_id/action_id` names, hints, optional marks and limits."""
    assert_golden("view", render_view(DECLARE_LIKE, NAMES))


def test_a_modal_shows_errors_and_the_values_already_entered() -> None:
    """`errors` shows under its input; `values` (view state) replaces initial values."""
    values = {
        "title": {"value": {"type": "plain_text_input", "value": "<new> & improved"}},
        "severity": {"value": {"type": "static_select", "selected_option": option("P1", "P1")}},
        "kind": {"value": {"type": "radio_buttons", "selected_option": option("wrong", "W")}},
    }
    errors = {"title": "Too <short>", "unknown": "ignored"}
    assert_golden("view_errors", render_view(DECLARE_LIKE, NAMES, errors=errors, values=values))


def test_view_labels_are_plain_strings_with_defaults() -> None:
    """Title and submit come from the view; close defaults to `Cancel`, submit to None."""
    assert view_title(DECLARE_LIKE) == "Declare an incident"
    assert view_submit_label(DECLARE_LIKE) == "Declare"
    assert view_close_label(DECLARE_LIKE) == "Cancel"
    assert view_submit_label({"type": "modal"}) is None
    assert view_close_label({"close": plain("Done")}) == "Done"


def test_a_confirm_object_becomes_json_in_one_escaped_attribute() -> None:
    """`data-confirm` holds the dialog's plain strings as JSON, attribute-escaped."""
    html = render_blocks(BLOCKS["actions_buttons"], NAMES)
    attribute = html.split('data-confirm="', 1)[1].split('"', 1)[0]
    assert json.loads(unescape(attribute)) == {
        "title": "Resolve this incident?",
        "text": 'INC-7 will be closed & "summarised"',
        "confirm": "Resolve",
        "deny": "Not yet",
        "style": "danger",
    }


@pytest.mark.parametrize(
    "block",
    [
        {"type": "section", "text": 5, "fields": "x", "accessory": []},
        {"type": "section", "fields": [None, 3, {"type": "mrkdwn"}]},
        {"type": "actions", "elements": [None, {"type": "button"}, {"type": "static_select"}]},
        {"type": "context", "elements": None},
        {"type": "rich_text", "elements": [{"type": "rich_text_list", "indent": "9"}, 1]},
        {"type": "input", "element": None, "label": None},
        {"type": "header"},
        {"type": "image", "image_url": None},
        {"type": "markdown", "text": ["no"]},
    ],
)
def test_odd_blocks_render_without_crashing(block: dict[str, Any]) -> None:
    """Missing keys and wrong types render what they can."""
    assert isinstance(render_blocks([block], NAMES), str)


class _Attributes(HTMLParser):
    """Every tag and attribute name in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.names.update(name for name, _ in attrs)


def test_hostile_strings_never_become_tags_or_attributes() -> None:
    """`<script>` and `"` from any field of any case stay escaped: no script, handler or style."""
    for blocks in BLOCKS.values():
        found = _Attributes()
        found.feed(render_blocks(blocks, NAMES))
        assert "script" not in found.tags
        assert not {name for name in found.names if name.startswith("on") or name == "style"}


DECLARED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _incident() -> Incident:
    return Incident(
        id=7,
        number=7,
        title="Checkout <!channel> is wrong",
        severity="P1",
        area="model",
        area_name="Model/Prompt",
        declared_by="U0OTHER",
        declared_at=DECLARED,
        response_deadline=DECLARED + timedelta(hours=1),
        channel_name="inc-7-checkout",
    )


def test_firebells_incident_message_renders_its_buttons(config: Config) -> None:
    """The main message shows Acknowledge, Escalate and Resolve with their action ids."""
    _, blocks = main_message(_incident(), config, channel_id="C1")
    html = render_blocks([block.to_dict() for block in blocks], NAMES)
    for label, action_id in (("Acknowledge", ACK), ("Escalate", ESCALATE), ("Resolve", RESOLVE)):
        assert f'data-action-id="{action_id}" data-block-id="incident-7"' in html
        assert f">{label}</button>" in html
    assert 'class="bk-button primary"' in html
    assert "&lt;!channel&gt;" in html
    assert '<span class="mention">#general</span>' in html


def test_firebells_declare_modal_renders_its_named_inputs(config: Config) -> None:
    """The declare form's controls are named `<block_id>/value`."""
    view = declare_modal(config, origin_channel="C1").to_dict()
    html = render_view(view, NAMES)
    for name in ("title/value", "severity/value", "scope/value"):
        assert f'name="{name}"' in html
    assert '<textarea class="bk-text-input"' in html
    assert 'name="description/value"' in html
    assert view_title(view) == "Declare an incident"
    assert view_submit_label(view) == "Declare"
