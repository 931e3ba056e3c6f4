"""The Slack app manifest: scopes from what the code calls, checked against Slack's schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.manifest import ManifestUrlError, manifest, public_url
from bot.slack.scopes import EVENTS, FEATURES, WEB_API, bot_scopes

BOT = Path(__file__).resolve().parents[2] / "bot"

# Facts of Slack's app manifest schema, from the manifest types of Slack's own Web API
# client (slackapi/node-slack-sdk, packages/web-api/src/types/request/manifest.ts, which
# mirrors https://docs.slack.dev/reference/app-manifest): required keys, maximum lengths
# and the granular bot scopes Slack knows.
REQUIRED = {
    "": ["display_information"],
    "display_information": ["name"],
    "features.bot_user": ["display_name"],
    "features.slash_commands[]": ["command", "description"],
    "settings.interactivity": ["is_enabled"],
}
MAX_LENGTH = {
    "display_information.name": 35,
    "display_information.description": 140,
    "display_information.long_description": 4000,
    "features.bot_user.display_name": 80,
    "features.slash_commands[].command": 32,
    "features.slash_commands[].description": 2000,
    "features.slash_commands[].usage_hint": 1000,
}
MAX_ITEMS = {
    "features.slash_commands": 50,
    "oauth_config.scopes.bot": 255,
    "settings.event_subscriptions.bot_events": 100,
}
KNOWN_KEYS = {
    "": {"_metadata", "display_information", "features", "oauth_config", "settings", "functions"},
    "display_information": {"name", "description", "long_description", "background_color"},
    "features": {"app_home", "bot_user", "shortcuts", "slash_commands", "unfurl_domains"},
    "features.bot_user": {"display_name", "always_online"},
    "features.slash_commands[]": {"command", "description", "should_escape", "url", "usage_hint"},
    "oauth_config": {"redirect_urls", "scopes", "token_management_enabled"},
    "oauth_config.scopes": {"bot", "user"},
    "settings": {
        "allowed_ip_address_ranges",
        "event_subscriptions",
        "incoming_webhooks",
        "interactivity",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
        "function_runtime",
    },
    "settings.event_subscriptions": {"bot_events", "user_events", "request_url"},
    "settings.interactivity": {"is_enabled", "message_menu_options_url", "request_url"},
}
URL_FIELDS = [
    "features.slash_commands[].url",
    "settings.event_subscriptions.request_url",
    "settings.interactivity.request_url",
]
# The granular bot scopes of Slack's list that firebell could plausibly use (same source).
SLACK_BOT_SCOPES = {
    "app_mentions:read", "channels:history", "channels:join", "channels:manage",
    "channels:read", "channels:write.invites", "chat:write", "chat:write.customize",
    "chat:write.public", "commands", "groups:history", "groups:read", "groups:write",
    "groups:write.invites", "im:history", "im:read", "im:write", "metadata.message:read",
    "mpim:history", "mpim:read", "mpim:write", "pins:read", "pins:write", "reactions:read",
    "reactions:write", "team:read", "usergroups:read", "usergroups:write", "users:read",
    "users:read.email",
}  # fmt: skip
# The scope Slack requires to subscribe a bot to an event (https://docs.slack.dev/reference/events).
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "member_joined_channel": "channels:read",
    "reaction_added": "reactions:read",
    "reaction_removed": "reactions:read",
    "app_home_opened": "",
}

# How code in bot/ reaches the Web API: `call("method", ...)` (the delivery client),
# `client.views_open(...)` (Bolt's typed client) and `api_call("method", ...)`.
_CALL = re.compile(r"""\bcall\(\s*["']([a-z]+\.[A-Za-z.]+)["']""")
_API_CALL = re.compile(r"""\bapi_call\(\s*["']([a-z]+\.[A-Za-z.]+)["']""")
_TYPED = re.compile(r"""\bclient\.(?!api_call\b)([a-z]+_[a-z_]+)\(""")
# A method name in any string literal, for calls that pass the method in a variable.
_NAMED = re.compile(
    r"""["']((?:apps|auth|bookmarks|bots|chat|conversations|dnd|emoji|files|pins|reactions"""
    r"""|reminders|search|team|usergroups|users|views)\.[A-Za-z.]+)["']"""
)
_LISTENER = re.compile(r"""\bapp\.event\(\s*["']([a-z_.]+)["']""")
_MESSAGE_LISTENER = re.compile(r"""\bapp\.message\(""")


def _values(node: Any, path: str) -> list[Any]:
    """The values at a dotted path; `name[]` steps into each item of a list."""
    found = [node]
    for part in [p for p in path.split(".") if p]:
        each, key = part.endswith("[]"), part.removesuffix("[]")
        found = [item[key] for item in found if isinstance(item, dict) and key in item]
        if each:
            found = [element for items in found for element in items]
    return found


def _schema_problems(doc: dict[str, Any]) -> list[str]:
    problems = []
    for path, keys in REQUIRED.items():
        for node in _values(doc, path):
            problems += [f"{path or 'top'}: {key} missing" for key in keys if key not in node]
    for path, known in KNOWN_KEYS.items():
        for node in _values(doc, path):
            problems += [f"{path or 'top'}: unknown key {key}" for key in set(node) - known]
    for path, limit in MAX_LENGTH.items():
        problems += [f"{path} over {limit}" for text in _values(doc, path) if len(text) > limit]
    for path, limit in MAX_ITEMS.items():
        problems += [f"{path}: over {limit}" for items in _values(doc, path) if len(items) > limit]
    for path in URL_FIELDS:
        problems += [f"{path}: {u} not https" for u in _values(doc, path) if u[:8] != "https://"]
    for name in _values(doc, "features.bot_user.display_name"):
        if not re.fullmatch(r"[a-z0-9._-]+", name):
            problems.append(f"bot display_name {name!r}: only a-z, 0-9, -, _ and .")
    for color in _values(doc, "display_information.background_color"):
        if not re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", color):
            problems.append(f"background_color {color!r}: not #rgb or #rrggbb")
    scopes = set(_values(doc, "oauth_config.scopes.bot")[0])
    problems += [f"unknown bot scope {scope}" for scope in scopes - SLACK_BOT_SCOPES]
    for event in _values(doc, "settings.event_subscriptions.bot_events[]"):
        needed = EVENT_SCOPES.get(event)
        if needed is None:
            problems.append(f"event {event}: add its scope to EVENT_SCOPES from Slack's reference")
        elif needed and needed not in scopes:
            problems.append(f"event {event} needs scope {needed}")
    return problems


def _code() -> str:
    """firebell's own code: the sandbox serves the Web API, it does not call it."""
    sandbox = BOT / "sandbox"
    paths = sorted(p for p in BOT.rglob("*.py") if sandbox not in p.parents)
    return "\n".join(path.read_text() for path in paths)


def _methods_called(code: str) -> set[str]:
    methods = set(_CALL.findall(code)) | set(_API_CALL.findall(code)) | set(_NAMED.findall(code))
    return methods | {name.replace("_", ".") for name in _TYPED.findall(code)}


def _events_listened(code: str) -> set[str]:
    events = set(_LISTENER.findall(code))
    return events | ({"message.channels"} if _MESSAGE_LISTENER.search(code) else set())


def test_every_web_api_method_the_code_calls_has_scopes_in_the_table() -> None:
    """A Web API call in bot/ without an entry in bot.slack.scopes fails here."""
    missing = _methods_called(_code()) - set(WEB_API)
    assert missing == set(), f"add these to bot/slack/scopes.py WEB_API: {sorted(missing)}"


def test_every_method_in_the_table_is_called_by_the_code() -> None:
    """No entry (and so no scope) for a method nothing calls."""
    assert set(WEB_API) - _methods_called(_code()) == set()


def test_the_grep_finds_calls_in_each_form_the_code_uses() -> None:
    """The patterns see the delivery client's calls and Bolt's typed client calls."""
    sample = (
        'await slack.call(\n    "chat.update", channel=c)\n'
        'await self.call("conversations.join", channel=c)\n'
        "await call.client.views_open(trigger_id=t)\n"
        'client.api_call("users.info")\n'
        'method = "reactions.add"\n'
    )
    assert _methods_called(sample) == {
        "chat.update",
        "conversations.join",
        "views.open",
        "users.info",
        "reactions.add",
    }


def test_events_are_subscribed_only_where_a_listener_exists() -> None:
    """The manifest's events are exactly the events bot/ has listeners for."""
    assert set(EVENTS) == _events_listened(_code())
    subscribed = _values(manifest("https://bot.example.com"), "settings.event_subscriptions")
    assert [s["bot_events"] for s in subscribed] == ([sorted(EVENTS)] if EVENTS else [])


def test_pins_by_reaction_subscribe_reaction_events_with_the_scopes_they_need() -> None:
    """:pushpin: pins need `reaction_added`/`reaction_removed`, `reactions:read`,
    `chat:write`, and the history reads of public and private incident channels."""
    doc = manifest("https://bot.example.com")
    events = doc["settings"]["event_subscriptions"]
    assert {"reaction_added", "reaction_removed"} <= set(events["bot_events"])
    assert events["request_url"] == "https://bot.example.com/slack/events"
    scopes = set(doc["oauth_config"]["scopes"]["bot"])
    assert {"reactions:read", "chat:write", "channels:history", "groups:history"} <= scopes


def test_app_mention_is_not_subscribed_without_a_handler() -> None:
    """No `app_mention` listener, so no subscription that would get a 404."""
    assert "app_mention" not in EVENTS


def test_manifest_scopes_are_the_tables_scopes_and_nothing_unused() -> None:
    """Scopes nothing uses (users:read, usergroups:read) are not asked for; groups:write
    is, for the private channels of restricted incidents."""
    scopes = manifest("https://bot.example.com")["oauth_config"]["scopes"]["bot"]
    assert scopes == bot_scopes()
    assert {"users:read", "usergroups:read"}.isdisjoint(scopes)
    assert {"groups:write", "groups:read"} <= set(scopes)
    assert {"commands", "chat:write", "channels:join", "im:write"} <= set(scopes)
    assert set(FEATURES["slash_commands"].scopes) <= set(scopes)


def test_http_manifest_passes_slacks_schema_with_the_events_url_everywhere() -> None:
    """Required keys, limits, scope names and https URLs, as Slack's reference has them."""
    doc = yaml.safe_load(yaml.safe_dump(manifest("https://bot.example.com/")))
    assert _schema_problems(doc) == []
    urls = [u for path in URL_FIELDS for u in _values(doc, path)]
    assert len(urls) == 3  # the command, interactivity and events
    assert set(urls) == {"https://bot.example.com/slack/events"}
    assert doc["settings"]["socket_mode_enabled"] is False


def test_socket_mode_manifest_has_no_request_urls() -> None:
    """`--socket-mode`: Socket Mode on, and no URL for Slack to call."""
    doc = manifest(None, socket_mode=True)
    assert _schema_problems(doc) == []
    assert doc["settings"]["socket_mode_enabled"] is True
    assert [u for path in URL_FIELDS for u in _values(doc, path)] == []
    assert doc["settings"]["interactivity"] == {"is_enabled": True}
    assert "request_url" not in doc["settings"]["event_subscriptions"]


def test_schema_check_catches_what_slack_refuses() -> None:
    """The check itself: a long name, an unknown scope, an event without its scope."""
    doc = manifest("https://bot.example.com")
    doc["display_information"]["name"] = "x" * 36
    doc["oauth_config"]["scopes"]["bot"].append("channels:write")
    doc["settings"]["event_subscriptions"] = {"bot_events": ["app_mention"]}
    assert sorted(_schema_problems(doc)) == [
        "display_information.name over 35",
        "event app_mention needs scope app_mentions:read",
        "unknown bot scope channels:write",
    ]


@pytest.mark.parametrize(
    "url", ["not a url", "http://bot.example.com", "https://", "bot.example.com", "https://a b"]
)
def test_manifest_url_must_be_https(url: str) -> None:
    """Anything but https://HOST is refused."""
    with pytest.raises(ManifestUrlError):
        public_url(url)


def test_manifest_command_refuses_a_non_https_url_with_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell manifest --url http://...` says why on one line and exits 2."""
    assert main(["manifest", "--url", "http://bot.example.com"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "https://" in err


def test_manifest_command_prints_the_socket_mode_manifest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell manifest --socket-mode` prints YAML with Socket Mode enabled."""
    assert main(["manifest", "--socket-mode"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["settings"]["socket_mode_enabled"] is True
