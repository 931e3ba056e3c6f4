"""`firebell manifest`: the Slack app manifest for a firebell at a URL, or over Socket Mode.

Scopes and events come from `bot.slack.scopes`, the table of what the code calls.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.slack.scopes import EVENTS, bot_scopes

EVENTS_PATH = "/slack/events"


class ManifestUrlError(ValueError):
    """`--url` is not an https:// URL Slack could send requests to."""


def public_url(text: str) -> str:
    """`text` as a base URL without a trailing slash; refuse anything but https://HOST[/path]."""
    parts = urlsplit(text.strip())
    if parts.scheme != "https" or not parts.hostname or " " in text.strip():
        raise ManifestUrlError(
            f"--url must be an https:// URL such as https://bot.example.com, not {text!r}"
        )
    if parts.query or parts.fragment:
        raise ManifestUrlError(f"--url must not have a query or fragment: {text!r}")
    return text.strip().rstrip("/")


def manifest(
    url: str | None, *, socket_mode: bool = False, name: str = "firebell"
) -> dict[str, Any]:
    """The manifest as a dict: Slack calls `url` (https://HOST), or none over Socket Mode."""
    if socket_mode == (url is not None):
        raise ValueError("give either a URL or socket_mode=True")
    endpoint = None if url is None else public_url(url) + EVENTS_PATH
    at = {} if endpoint is None else {"url": endpoint}
    request_url = {} if endpoint is None else {"request_url": endpoint}
    settings: dict[str, Any] = {}
    if EVENTS:
        settings["event_subscriptions"] = {**request_url, "bot_events": sorted(EVENTS)}
    settings |= {
        "interactivity": {"is_enabled": True, **request_url},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    return {
        "display_information": {
            "name": name,
            "description": "Incident response: severities, deadlines, RACI paging, escalation.",
            "background_color": "#b3261e",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [
                {
                    "command": "/incident",
                    **at,
                    "description": "Declare and run incidents",
                    "usage_hint": "declare P1 Checkout answers are wrong | help",
                    "should_escape": True,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": bot_scopes()}},
        "settings": settings,
    }


def manifest_yaml(url: str | None, *, socket_mode: bool = False) -> str:
    """The manifest as YAML, ready to paste into https://api.slack.com/apps."""
    return yaml.safe_dump(manifest(url, socket_mode=socket_mode), sort_keys=False)
