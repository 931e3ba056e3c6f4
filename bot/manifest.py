"""`firebell manifest`: the Slack app manifest for a firebell at a given URL."""

from __future__ import annotations

from typing import Any

import yaml

# Every scope a firebell feature calls a Web API method for, with the reason.
BOT_SCOPES = {
    "commands": "the /incident slash command",
    "chat:write": "post incident messages, pages and updates",
    "chat:write.public": "post to announcement channels the bot has not joined",
    "channels:manage": "create incident channels and invite responders",
    "channels:read": "find an incident channel again after an interrupted create",
    "channels:history": "find a post an interrupted delivery made, so it is not sent twice",
    "groups:history": "the same, in private incident channels",
    "im:history": "the same, in the DMs that page people",
    "groups:write": "invite responders to private incident channels",
    "im:write": "open DMs to page people",
    "pins:write": "pin the incident's main message",
    "users:read": "resolve mentions of people",
    "usergroups:read": "page teams through their user group",
}


def manifest(url: str, *, name: str = "firebell") -> dict[str, Any]:
    """The manifest as a dict; `url` is where firebell is reachable."""
    base = url.rstrip("/")
    events = f"{base}/slack/events"
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
                    "url": events,
                    "description": "Declare and run incidents",
                    "usage_hint": "declare P1 Checkout answers are wrong | help",
                    "should_escape": True,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": sorted(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": events, "bot_events": ["app_mention"]},
            "interactivity": {"is_enabled": True, "request_url": events},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str) -> str:
    """The manifest as YAML, ready to paste into https://api.slack.com/apps."""
    return yaml.safe_dump(manifest(url), sort_keys=False)
