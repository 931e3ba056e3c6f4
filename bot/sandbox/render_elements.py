"""Block Kit interactive elements and input blocks to HTML.

Every control carries what the page needs to send Slack's `block_actions` payload:
`data-type`, `data-action-id` and `data-block-id` (the enclosing block's id, maybe
empty); buttons also `data-value`, and anything with a `confirm` object `data-confirm`
(JSON `{"title", "text", "confirm", "deny", "style"}` of plain strings). Form controls
are named `<block_id>/<action_id>`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox.mrkdwn import (
    Names,
    escape,
    mrkdwn_to_html,
    mrkdwn_to_plain,
    plain_to_html,
    safe_url,
)

# Slack's view state for one action: `{"type": …, "value": …}` or `selected_option(s)`.
State = Mapping[str, Any]


def text_of(value: object) -> str:
    """The raw string of a text object (or of a bare string); empty if it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str_at(value, "text")
    return ""


def str_at(data: object, key: str) -> str:
    """`data[key]` if `data` is a mapping and that is a string, else empty."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else ""


def list_at(data: object, key: str) -> list[Any]:
    """`data[key]` if `data` is a mapping and that is a list, else empty."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, list) else []


def text_html(value: object, names: Names) -> str:
    """A text object as HTML: mrkdwn rendered, plain text escaped."""
    if isinstance(value, Mapping) and value.get("type") == "mrkdwn":
        return mrkdwn_to_html(str_at(value, "text"), names)
    return plain_to_html(text_of(value))


def text_plain(value: object, names: Names) -> str:
    """A text object as the words a reader sees."""
    if isinstance(value, Mapping) and value.get("type") == "mrkdwn":
        return mrkdwn_to_plain(str_at(value, "text"), names)
    return text_of(value)


def attrs(**values: str | None) -> str:
    """` name="value"` for each value that is not None (`_` in names becomes `-`)."""
    return "".join(
        f' {name.replace("_", "-")}="{escape(value)}"'
        for name, value in values.items()
        if value is not None
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: object) -> str | None:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _common(element: Mapping[str, Any], block_id: str, names: Names) -> str:
    confirm = element.get("confirm")
    return attrs(
        data_type=str_at(element, "type"),
        data_action_id=str_at(element, "action_id"),
        data_block_id=block_id,
        data_confirm=_confirm_json(confirm, names) if isinstance(confirm, Mapping) else None,
    )


def _confirm_json(confirm: Mapping[str, Any], names: Names) -> str:
    return json.dumps(
        {
            "title": text_plain(confirm.get("title"), names),
            "text": text_plain(confirm.get("text"), names),
            "confirm": text_plain(confirm.get("confirm"), names) or "Confirm",
            "deny": text_plain(confirm.get("deny"), names) or "Cancel",
            "style": str_at(confirm, "style"),
        }
    )


def _button(element: Mapping[str, Any], block_id: str, names: Names, _: State | None) -> str:
    style = str_at(element, "style")
    css = "bk-button" + (f" {style}" if style in ("primary", "danger") else "")
    label = text_html(element.get("text"), names)
    data = _common(element, block_id, names) + attrs(data_value=_str_or_none(element.get("value")))
    url = str_at(element, "url")
    if url and safe_url(url):
        return (
            f'<a class="{css}"{attrs(href=url.strip())} target="_blank" '
            f'rel="noopener noreferrer"{data}>{label}</a>'
        )
    return f'<button type="button" class="{css}"{data}>{label}</button>'


def _option(option: object, names: Names, selected: set[str]) -> str:
    value = str_at(option, "value")
    chosen = " selected" if value in selected else ""
    return (
        f"<option{attrs(value=value)}{chosen}>{escape(text_plain(_text(option), names))}</option>"
    )


def _text(option: object) -> object:
    return option.get("text") if isinstance(option, Mapping) else None


def _selected(element: Mapping[str, Any], state: State | None) -> set[str]:
    if state is not None:
        options = list_at(state, "selected_options") or [state.get("selected_option")]
    else:
        options = list_at(element, "initial_options") or [element.get("initial_option")]
    return {str_at(option, "value") for option in options if isinstance(option, Mapping)}


def _select(element: Mapping[str, Any], block_id: str, names: Names, state: State | None) -> str:
    selected = _selected(element, state)
    kind = "bk-overflow" if element.get("type") == "overflow" else "bk-select"
    placeholder = text_plain(element.get("placeholder"), names) or (
        "…" if kind == "bk-overflow" else "Select an option"
    )
    first = " selected" if not selected else ""
    parts = [f'<option value="" disabled{first}>{escape(placeholder)}</option>']
    parts += [_option(option, names, selected) for option in list_at(element, "options")]
    for group in list_at(element, "option_groups"):
        inner = "".join(_option(o, names, selected) for o in list_at(group, "options"))
        label = text_plain(group.get("label"), names) if isinstance(group, Mapping) else ""
        parts.append(f"<optgroup{attrs(label=label)}>{inner}</optgroup>")
    return (
        f'<select class="{kind}"{attrs(name=_name(element, block_id))}'
        f"{_common(element, block_id, names)}>{''.join(parts)}</select>"
    )


def _choices(element: Mapping[str, Any], block_id: str, names: Names, state: State | None) -> str:
    kind = "checkbox" if element.get("type") == "checkboxes" else "radio"
    selected = _selected(element, state)
    name = _name(element, block_id)
    labels = []
    for option in list_at(element, "options"):
        value = str_at(option, "value")
        checked = " checked" if value in selected else ""
        description = option.get("description") if isinstance(option, Mapping) else None
        small = (
            f'<span class="bk-option-description">{text_html(description, names)}</span>'
            if description
            else ""
        )
        labels.append(
            f'<label class="bk-option"><input{attrs(type=kind, name=name, value=value)}'
            f'{checked}> <span class="bk-option-text">{text_html(_text(option), names)}</span>'
            f"{small}</label>"
        )
    css = "bk-checkboxes" if kind == "checkbox" else "bk-radio-buttons"
    return f'<div class="{css}"{_common(element, block_id, names)}>{"".join(labels)}</div>'


def _text_input(
    element: Mapping[str, Any], block_id: str, names: Names, state: State | None
) -> str:
    value = str_at(state, "value") if state is not None else str_at(element, "initial_value")
    common = _common(element, block_id, names) + attrs(
        name=_name(element, block_id),
        placeholder=text_plain(element.get("placeholder"), names) or None,
        maxlength=_int_or_none(element.get("max_length")),
        minlength=_int_or_none(element.get("min_length")),
    )
    if element.get("multiline") is True:
        return f'<textarea class="bk-text-input"{common}>{escape(value)}</textarea>'
    return f'<input type="text" class="bk-text-input"{common}{attrs(value=value)}>'


def _image(element: Mapping[str, Any], block_id: str, names: Names, _: State | None) -> str:
    return image_html(element, "bk-image-element")


def image_html(image: Mapping[str, Any], css: str) -> str:
    """An `<img>` for an https `image_url`; otherwise its alt text in a placeholder."""
    url, alt = str_at(image, "image_url").strip(), str_at(image, "alt_text")
    if url.lower().startswith("https://"):
        return f'<img class="{css}"{attrs(src=url, alt=alt)}>'
    return f'<span class="bk-image-missing">{escape(alt)}</span>'


def _name(element: Mapping[str, Any], block_id: str) -> str:
    return f"{block_id}/{str_at(element, 'action_id')}"


Renderer = Callable[[Mapping[str, Any], str, Names, State | None], str]
ELEMENTS: dict[str, Renderer] = {
    "button": _button,
    "static_select": _select,
    "overflow": _select,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "plain_text_input": _text_input,
    "image": _image,
}


def element_html(element: object, block_id: str, names: Names, state: State | None = None) -> str:
    """One element; `state` (Slack's view state for it) overrides its initial value."""
    if not isinstance(element, Mapping):
        return unknown_html("element", "?")
    kind = str_at(element, "type")
    renderer = ELEMENTS.get(kind)
    if renderer is None:
        return unknown_html("element", kind or "?")
    return renderer(element, block_id, names, state)


def unknown_html(what: str, kind: str) -> str:
    """A small note naming a block or element type this renderer does not know."""
    return f'<div class="bk-unknown">Unsupported {what}: {escape(kind)}</div>'


def input_html(
    block: Mapping[str, Any],
    names: Names,
    *,
    error: str | None = None,
    state: Mapping[str, Any] | None = None,
) -> str:
    """An `input` block: label, control, hint and error; `state` is the block's view state."""
    block_id = str_at(block, "block_id")
    element = block.get("element")
    action_id = str_at(element, "action_id")
    action_state = state.get(action_id) if state is not None else None
    control = element_html(
        element, block_id, names, action_state if isinstance(action_state, Mapping) else None
    )
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    hint = block.get("hint")
    parts = [
        f'<div class="bk-input"{attrs(data_block_id=block_id, data_action_id=action_id)}>',
        f'<div class="bk-label">{text_html(block.get("label"), names)}{optional}</div>',
        control,
        f'<div class="bk-hint">{text_html(hint, names)}</div>' if hint else "",
        f'<div class="bk-error">{escape(error)}</div>' if error else "",
        "</div>",
    ]
    return "".join(parts)
