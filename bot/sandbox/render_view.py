"""A modal view to HTML for the sandbox page.

`render_view` gives the body only (its blocks, escaped HTML). The title and the submit
and close labels come from `view_title`, `view_submit_label` and `view_close_label` as
plain strings, which the caller escapes where it puts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.mrkdwn import Names
from bot.sandbox.render import render_block
from bot.sandbox.render_elements import input_html, list_at, str_at, text_of


def render_view(
    view: dict[str, Any],
    names: Names,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> str:
    """A modal's blocks as HTML inside `<div class="bk-view">`.

    `errors` maps a block_id to the message shown under its input (a `response_action:
    errors` answer); `values` is Slack's `view.state.values` (`{block_id: {action_id:
    {"type", "value" | "selected_option" | "selected_options"}}}`) and, when given,
    fills the inputs instead of their initial values.
    """
    parts = []
    for block in list_at(view, "blocks"):
        if isinstance(block, Mapping) and block.get("type") == "input":
            block_id = str_at(block, "block_id")
            state = values.get(block_id) if values is not None else None
            parts.append(
                input_html(
                    block,
                    names,
                    error=(errors or {}).get(block_id),
                    state=state if isinstance(state, Mapping) else None,
                )
            )
        else:
            parts.append(render_block(block, names))
    return f'<div class="bk-view">{"".join(parts)}</div>'


def view_title(view: dict[str, Any]) -> str:
    """The modal's title, plain (unescaped)."""
    return text_of(view.get("title")) if isinstance(view, Mapping) else ""


def view_submit_label(view: dict[str, Any]) -> str | None:
    """The submit button's label, plain (unescaped); None when the modal has none."""
    label = text_of(view.get("submit")) if isinstance(view, Mapping) else ""
    return label or None


def view_close_label(view: dict[str, Any]) -> str:
    """The close button's label, plain (unescaped); `Cancel` by default."""
    label = text_of(view.get("close")) if isinstance(view, Mapping) else ""
    return label or "Cancel"
