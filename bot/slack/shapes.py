"""What a signed request must look like before Bolt and the listeners read it (pure).

Bolt reads a request's fields without checking their types: a `payload` that is not
JSON, an `actions` list that is empty or a view without `type` raise deep inside it
(HTTP 500, a traceback). So a request is read here once, the way Slack sends it (a slash
command's form, an interaction's `payload` field of JSON, an event's JSON body), and
every field that Bolt or a listener relies on is checked for its type. A request that
fails gets a `MalformedRequestError` naming the field. The values themselves (IDs, button
values, text) are the listeners' to judge: those mistakes are answered to the user.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

Fields = dict[str, Any]
_NOUNS: dict[type, str] = {str: "a string", dict: "an object"}


class MalformedRequestError(Exception):
    """A signed request that is not shaped as Slack sends it; `str(err)` says how."""


def read_request(body: bytes, content_type: str | None) -> Fields:
    """The fields of a request as Slack sent them, checked; raise MalformedRequestError."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise MalformedRequestError("the body is not UTF-8") from None
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type == "application/json":
        fields = _json_object(text, "the body")
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        fields = _json_object(form["payload"], "`payload`") if "payload" in form else form
    check(fields)
    return fields


def check(fields: Fields) -> None:
    """Raise MalformedRequestError unless `fields` has the shape of its kind of request."""
    if fields.get("ssl_check") == "1":  # Slack's probe of the certificate; Bolt answers it
        return
    if "command" in fields:  # what makes Bolt take a request for a slash command
        _command(fields)
        return
    kind = fields.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedRequestError("no `type`")
    _context(fields)
    _BY_TYPE.get(kind, _anything)(fields)


def _json_object(text: str, what: str) -> Fields:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, too deep, or a number too long
        raise MalformedRequestError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequestError(f"{what} is not a JSON object")
    return value


def _command(fields: Fields) -> None:
    for name in ("command", "user_id", "channel_id"):
        if not isinstance(fields.get(name), str) or not fields[name]:
            raise MalformedRequestError(f"a slash command without `{name}`")
    for name in ("text", "trigger_id", "response_url"):
        _optional(fields, name, str)


def _context(fields: Fields) -> None:
    """The fields Bolt reads from every request to build its context."""
    for name in ("user", "team", "enterprise", "channel"):
        value = fields.get(name)
        if isinstance(value, dict):
            _optional(value, "id", str, within=name)
        elif value is not None and not isinstance(value, str):
            raise MalformedRequestError(f"`{name}` is neither an ID nor an object")
    _optional(fields, "response_url", str)
    _list_of_objects(fields, "response_urls")
    _list_of_objects(fields, "authorizations")
    if "event" in fields:
        _object(fields, "event")
    _optional(fields, "view", dict)


def _block_actions(fields: Fields) -> None:
    _user(fields)
    actions = fields.get("actions")
    if not isinstance(actions, list) or not actions:
        raise MalformedRequestError("`actions` is not a list of actions")
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            raise MalformedRequestError("an action without `action_id`")
        _optional(action, "block_id", str, within="actions")


def _view(fields: Fields) -> None:
    _user(fields)
    view = _object(fields, "view")
    for name in ("id", "type", "callback_id"):
        if not isinstance(view.get(name), str):
            raise MalformedRequestError(f"a view without `{name}`")
    _optional(view, "private_metadata", str, within="view")
    state = _object(view, "state", within="view")
    values = _object(state, "values", within="view.state")
    for block in values.values():
        if not isinstance(block, dict):
            raise MalformedRequestError("a block in `view.state.values` is not an object")
        for element in block.values():
            if not isinstance(element, dict):
                raise MalformedRequestError("an element in `view.state.values` is not an object")
            _optional(element, "value", str, within="view.state.values")
            _optional(element, "selected_option", dict, within="view.state.values")


def _event_callback(fields: Fields) -> None:
    event = _object(fields, "event")
    if not isinstance(event.get("type"), str):
        raise MalformedRequestError("an event without `type`")


def _url_verification(fields: Fields) -> None:
    if not isinstance(fields.get("challenge"), str):
        raise MalformedRequestError("a URL verification without `challenge`")


def _anything(_: Fields) -> None:
    """Kinds firebell has no listener for: Bolt answers them as unhandled."""


_BY_TYPE: dict[str, Callable[[Fields], None]] = {
    "block_actions": _block_actions,
    "view_submission": _view,
    "view_closed": _view,
    "event_callback": _event_callback,
    "url_verification": _url_verification,
}


def _user(fields: Fields) -> None:
    user = fields.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        raise MalformedRequestError("no `user` with an `id`")


def _object(fields: Fields, name: str, *, within: str = "") -> Fields:
    value = fields.get(name)
    if not isinstance(value, dict):
        raise MalformedRequestError(f"`{_path(within, name)}` is not an object")
    return value


def _list_of_objects(fields: Fields, name: str) -> None:
    value = fields.get(name)
    if value is not None and not (
        isinstance(value, list) and all(isinstance(item, dict) for item in value)
    ):
        raise MalformedRequestError(f"`{name}` is not a list of objects")


def _optional(fields: Fields, name: str, kind: type, *, within: str = "") -> None:
    value = fields.get(name)
    if value is not None and not isinstance(value, kind):
        noun = _NOUNS.get(kind, kind.__name__)
        raise MalformedRequestError(f"`{_path(within, name)}` is not {noun}")


def _path(within: str, name: str) -> str:
    return f"{within}.{name}" if within else name
