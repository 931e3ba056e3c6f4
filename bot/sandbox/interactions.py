"""What a person's press or choice in the sandbox page is, as the fields Slack sends:
the element pressed in a message's blocks, the option chosen, a modal's state values."""

from __future__ import annotations

from collections.abc import Iterable

from bot.sandbox.model import Json


class SandboxError(Exception):
    """Something the page asked for cannot be done; the message says why, for the page."""


def blocks_of(value: object) -> list[Json]:
    """The block objects of a `blocks` field (nothing else in it counts)."""
    if isinstance(value, list):
        return [b for b in value if isinstance(b, dict)]
    return []


def find_element(blocks: Iterable[Json], action_id: str) -> Json | None:
    """The interactive element `action_id` in `blocks`, if any."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        elements += [block[key] for key in ("accessory", "element") if key in block]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _options(element: Json | None) -> list[Json]:
    if element is None:
        return []
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list(group.get("options") or [])
    return [o for o in options if isinstance(o, dict)]


def _option(element: Json | None, value: str) -> Json:
    found = next((o for o in _options(element) if o.get("value") == value), None)
    if found is None:
        raise SandboxError(f"no option {value!r} to choose")
    return found


def element_action(kind: str, element: Json | None, body: Json) -> Json | None:
    """The fields Slack sends for a select or checkboxes (None: a button press)."""
    if kind == "button":
        return None
    if kind in ("static_select", "radio_buttons", "overflow"):
        return {"type": kind, "selected_option": _option(element, str(body.get("value") or ""))}
    if kind == "checkboxes":
        chosen = [str(v) for v in body.get("selected") or []]
        return {"type": kind, "selected_options": [_option(element, v) for v in chosen]}
    raise SandboxError(f"the sandbox cannot send a {kind} action")


def state_values(view: Json, values: Json) -> Json:
    """A modal's `state.values` as Slack sends them, from what the page's inputs hold."""
    state: Json = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) else None
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id, action_id = str(block.get("block_id") or ""), str(element.get("action_id"))
        entered = values.get(block_id) or {}
        if not isinstance(entered, dict):
            raise SandboxError(f"values.{block_id} must be an object of {{action_id: value}}")
        given = entered.get(action_id)
        kind = str(element.get("type"))
        entry: Json = {"type": kind}
        if kind in ("static_select", "radio_buttons"):
            entry["selected_option"] = _option(element, str(given)) if given else None
        elif kind == "checkboxes":
            entry["selected_options"] = [_option(element, str(v)) for v in given or []]
        else:
            entry["value"] = str(given) if given else None
        state[block_id] = {action_id: entry}
    return state
