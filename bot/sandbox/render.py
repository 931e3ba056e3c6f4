"""Block Kit messages to HTML for the sandbox page, which inserts it as it is.

Every string from the blocks is escaped here; the output's only tags, classes and
attributes are the ones written in `bot/sandbox/`. Odd input (missing keys, wrong
types) renders what it can, an unknown block type as a `bk-unknown` note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox.markdown import markdown_to_html
from bot.sandbox.mrkdwn import Names, mrkdwn_to_html, plain_to_html
from bot.sandbox.render_elements import (
    element_html,
    image_html,
    input_html,
    list_at,
    str_at,
    text_html,
    text_of,
    unknown_html,
)
from bot.sandbox.render_rich_text import rich_text_html


def render_blocks(blocks: list[dict[str, Any]], names: Names, *, fallback_text: str = "") -> str:
    """A message's blocks as HTML; with no blocks, its `text` as mrkdwn."""
    if not isinstance(blocks, list) or not blocks:
        return f'<div class="bk-text">{mrkdwn_to_html(fallback_text, names)}</div>'
    return "".join(render_block(block, names) for block in blocks)


def render_block(block: object, names: Names) -> str:
    """One block as HTML."""
    if not isinstance(block, Mapping):
        return unknown_html("block", "?")
    kind = str_at(block, "type")
    renderer = BLOCKS.get(kind)
    if renderer is None:
        return unknown_html("block", kind or "?")
    return renderer(block, names)


def _header(block: Mapping[str, Any], names: Names) -> str:
    return f'<div class="bk-header">{plain_to_html(text_of(block.get("text")))}</div>'


def _section(block: Mapping[str, Any], names: Names) -> str:
    block_id = str_at(block, "block_id")
    body = []
    if block.get("text"):
        body.append(f'<div class="bk-text">{text_html(block.get("text"), names)}</div>')
    fields = list_at(block, "fields")
    if fields:
        cells = "".join(f'<div class="bk-field">{text_html(f, names)}</div>' for f in fields)
        body.append(f'<div class="bk-fields">{cells}</div>')
    accessory = block.get("accessory")
    side = (
        f'<div class="bk-accessory">{element_html(accessory, block_id, names)}</div>'
        if accessory
        else ""
    )
    return f'<div class="bk-section"><div class="bk-section-body">{"".join(body)}</div>{side}</div>'


def _context(block: Mapping[str, Any], names: Names) -> str:
    parts = []
    for element in list_at(block, "elements"):
        if isinstance(element, Mapping) and element.get("type") == "image":
            parts.append(image_html(element, "bk-context-image"))
        else:
            parts.append(f'<span class="bk-context-text">{text_html(element, names)}</span>')
    return f'<div class="bk-context">{"".join(parts)}</div>'


def _divider(block: Mapping[str, Any], names: Names) -> str:
    return '<hr class="bk-divider">'


def _actions(block: Mapping[str, Any], names: Names) -> str:
    block_id = str_at(block, "block_id")
    elements = "".join(element_html(e, block_id, names) for e in list_at(block, "elements"))
    return f'<div class="bk-actions">{elements}</div>'


def _markdown(block: Mapping[str, Any], names: Names) -> str:
    return f'<div class="bk-markdown">{markdown_to_html(str_at(block, "text"))}</div>'


def _image(block: Mapping[str, Any], names: Names) -> str:
    title = block.get("title")
    caption = f"<figcaption>{text_html(title, names)}</figcaption>" if title else ""
    return f'<figure class="bk-image">{caption}{image_html(block, "bk-image-img")}</figure>'


def _input(block: Mapping[str, Any], names: Names) -> str:
    return input_html(block, names)


BLOCKS: dict[str, Callable[[Mapping[str, Any], Names], str]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "markdown": _markdown,
    "rich_text": rich_text_html,
    "image": _image,
    "input": _input,
}
