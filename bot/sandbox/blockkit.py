"""Block Kit validation for the fake Slack: Slack's documented limits and error wording.

Each problem is reported the way Slack reports it, a reason followed by a JSON pointer,
e.g. ``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MARKDOWN_TOTAL = 12_000

_TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
_SELECTS = frozenset(
    f"{multi}{kind}_select"
    for multi in ("", "multi_")
    for kind in ("static", "external", "users", "conversations", "channels")
)
_PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons"})
_INTERACTIVE = _SELECTS | _PICKERS | {"button", "overflow", "workflow_button"}
_ACCESSORIES = _INTERACTIVE | {"image"}
_INPUTS = (
    _SELECTS
    | _PICKERS
    | {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
_BUTTON_STYLES = frozenset({"primary", "danger"})


class _Checker:
    """Walks blocks and collects every limit they break."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.markdown_total = 0

    def fail(self, pointer: str, reason: str) -> None:
        self.errors.append(f"{reason} [json-pointer:{pointer}]")

    def string(self, value: Any, pointer: str, limit: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.fail(pointer, "must provide a string")
            return
        if not isinstance(value, str):
            self.fail(pointer, "must provide a string")
        elif len(value) > limit:
            self.fail(pointer, f"must be less than {limit + 1} characters")
        elif required and not value:
            self.fail(pointer, "must be more than 0 characters")

    def text(
        self,
        obj: Any,
        pointer: str,
        limit: int,
        *,
        required: bool = True,
        plain_only: bool = False,
    ) -> None:
        if obj is None:
            if required:
                self.fail(pointer, "must provide an object")
            return
        if not isinstance(obj, dict):
            self.fail(pointer, "must provide an object")
            return
        allowed = frozenset({"plain_text"}) if plain_only else _TEXT_TYPES
        if obj.get("type") not in allowed:
            self.fail(f"{pointer}/type", f"must be one of {sorted(allowed)}")
        self.string(obj.get("text"), f"{pointer}/text", limit, required=True)

    def items(self, value: Any, pointer: str, limit: int, *, minimum: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.fail(pointer, "must provide an array")
            return []
        if len(value) > limit:
            self.fail(pointer, f"no more than {limit} items allowed")
        elif len(value) < minimum:
            self.fail(pointer, f"must provide at least {minimum} items")
        return value

    def options(self, value: Any, pointer: str, limit: int, *, mrkdwn: bool = False) -> None:
        for i, option in enumerate(self.items(value, pointer, limit)):
            here = f"{pointer}/{i}"
            if not isinstance(option, dict):
                self.fail(here, "must provide an object")
                continue
            self.text(option.get("text"), f"{here}/text", 75, plain_only=not mrkdwn)
            self.string(option.get("value"), f"{here}/value", 150, required=True)
            self.text(option.get("description"), f"{here}/description", 75, required=False)

    def confirm(self, obj: Any, pointer: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.fail(pointer, "must provide an object")
            return
        self.text(obj.get("title"), f"{pointer}/title", 100, plain_only=True)
        self.text(obj.get("text"), f"{pointer}/text", 300)
        self.text(obj.get("confirm"), f"{pointer}/confirm", 30, plain_only=True)
        self.text(obj.get("deny"), f"{pointer}/deny", 30, plain_only=True)

    def element(self, el: Any, pointer: str, allowed: frozenset[str], action_ids: set[str]) -> None:
        if not isinstance(el, dict):
            self.fail(pointer, "must provide an object")
            return
        kind = el.get("type")
        if kind not in allowed:
            self.fail(f"{pointer}/type", f"unsupported type: {kind}")
            return
        action_id = el.get("action_id")
        self.string(action_id, f"{pointer}/action_id", 255)
        if isinstance(action_id, str):
            if action_id in action_ids:
                self.fail(f"{pointer}/action_id", f"duplicate action_id: {action_id}")
            action_ids.add(action_id)
        self.confirm(el.get("confirm"), f"{pointer}/confirm")
        self.text(el.get("placeholder"), f"{pointer}/placeholder", 150, required=False)
        if kind == "button":
            self.text(el.get("text"), f"{pointer}/text", 75, plain_only=True)
            self.string(el.get("value"), f"{pointer}/value", 2000)
            self.string(el.get("url"), f"{pointer}/url", 3000)
            if "style" in el and el["style"] not in _BUTTON_STYLES:
                self.fail(f"{pointer}/style", f"must be one of {sorted(_BUTTON_STYLES)}")
        elif kind == "image":
            self.image(el, pointer)
        elif kind in {"static_select", "multi_static_select"}:
            if "option_groups" in el:
                self.items(el["option_groups"], f"{pointer}/option_groups", 100)
            else:
                self.options(el.get("options"), f"{pointer}/options", 100)
        elif kind == "overflow":
            self.options(el.get("options"), f"{pointer}/options", 5)
        elif kind in {"checkboxes", "radio_buttons"}:
            self.options(el.get("options"), f"{pointer}/options", 10, mrkdwn=True)
        elif kind == "plain_text_input":
            self.string(el.get("initial_value"), f"{pointer}/initial_value", 3000)

    def image(self, obj: dict[str, Any], pointer: str) -> None:
        if "slack_file" not in obj:
            self.string(obj.get("image_url"), f"{pointer}/image_url", 3000, required=True)
        self.string(obj.get("alt_text"), f"{pointer}/alt_text", 2000, required=True)

    def section(self, block: dict[str, Any], pointer: str, action_ids: set[str]) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(pointer, "must provide either text or fields")
        self.text(block.get("text"), f"{pointer}/text", 3000, required=False)
        if "fields" in block:
            fields = self.items(block["fields"], f"{pointer}/fields", 10)
            for i, item in enumerate(fields):
                self.text(item, f"{pointer}/fields/{i}", 2000)
        if "accessory" in block:
            here = f"{pointer}/accessory"
            self.element(block["accessory"], here, _ACCESSORIES, action_ids)

    def context(self, block: dict[str, Any], pointer: str) -> None:
        for i, el in enumerate(self.items(block.get("elements"), f"{pointer}/elements", 10)):
            here = f"{pointer}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.image(el, here)
            else:
                self.text(el, here, 3000)

    def block(self, block: Any, pointer: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.fail(pointer, "must provide an object")
            return
        block_id = block.get("block_id")
        self.string(block_id, f"{pointer}/block_id", 255)
        if isinstance(block_id, str):
            if block_id in block_ids:
                self.fail(f"{pointer}/block_id", f"duplicate block_id: {block_id}")
            block_ids.add(block_id)
        action_ids: set[str] = set()
        kind = block.get("type")
        if kind == "section":
            self.section(block, pointer, action_ids)
        elif kind == "header":
            self.text(block.get("text"), f"{pointer}/text", 150, plain_only=True)
        elif kind == "actions":
            for i, el in enumerate(self.items(block.get("elements"), f"{pointer}/elements", 25)):
                self.element(el, f"{pointer}/elements/{i}", _INTERACTIVE, action_ids)
        elif kind == "context":
            self.context(block, pointer)
        elif kind == "markdown":
            text = block.get("text")
            self.string(text, f"{pointer}/text", 12_000, required=True)
            self.markdown_total += len(text) if isinstance(text, str) else 0
        elif kind == "image":
            self.image(block, pointer)
            self.text(block.get("title"), f"{pointer}/title", 2000, required=False, plain_only=True)
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", 2000, plain_only=True)
            self.text(block.get("hint"), f"{pointer}/hint", 2000, required=False, plain_only=True)
            self.element(block.get("element"), f"{pointer}/element", _INPUTS, action_ids)
        elif kind == "rich_text":
            self.items(block.get("elements"), f"{pointer}/elements", 100)
        elif kind == "file":
            self.string(block.get("external_id"), f"{pointer}/external_id", 255, required=True)
            if block.get("source") != "remote":
                self.fail(f"{pointer}/source", "must be one of ['remote']")
        elif kind == "video":
            for key in ("alt_text", "title", "thumbnail_url", "video_url"):
                self.string(block.get(key), f"{pointer}/{key}", 3000, required=True)
        elif kind != "divider":
            self.fail(f"{pointer}/type", f"unsupported type: {kind}")


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Every Block Kit limit ``blocks`` breaks; empty when Slack would accept them."""
    checker = _Checker()
    block_ids: set[str] = set()
    for i, block in enumerate(checker.items(blocks, "/blocks", max_blocks, minimum=0)):
        checker.block(block, f"/blocks/{i}", block_ids)
    if checker.markdown_total > MAX_MARKDOWN_TOTAL:
        checker.fail("/blocks", f"markdown blocks exceed {MAX_MARKDOWN_TOTAL} characters in total")
    return checker.errors


def validate_view(view: Any) -> list[str]:
    """Every limit a modal or home tab ``view`` breaks, blocks included."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.fail("/view", "must provide an object")
        return checker.errors
    kind = view.get("type")
    if kind not in {"modal", "home"}:
        checker.fail("/view/type", "must be one of ['home', 'modal']")
    blocks = view.get("blocks")
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain_only=True)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        submit = view.get("submit")
        if has_input and submit is None:
            checker.fail("/view/submit", "must provide submit when input blocks are present")
        checker.text(submit, "/view/submit", 24, required=False, plain_only=True)
        checker.text(view.get("close"), "/view/close", 24, required=False, plain_only=True)
    checker.string(view.get("callback_id"), "/view/callback_id", 255)
    checker.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    checker.string(view.get("external_id"), "/view/external_id", 255)
    block_errors = validate_blocks(blocks, max_blocks=MAX_VIEW_BLOCKS)
    pointer = "[json-pointer:/blocks"
    checker.errors += [e.replace(pointer, "[json-pointer:/view/blocks") for e in block_errors]
    return checker.errors


def with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack gives every block without a block_id a random one."""
    filled = copy.deepcopy(blocks)
    taken = {b.get("block_id") for b in filled}
    for block in filled:
        while "block_id" not in block or block["block_id"] is None:
            candidate = "".join(secrets.choice(string.ascii_letters) for _ in range(5))
            if candidate not in taken:
                block["block_id"] = candidate
                taken.add(candidate)
    return filled
