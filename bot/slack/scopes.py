"""Every Slack Web API method and event firebell uses, and the OAuth scopes each needs.

The manifest's scopes are derived from this table (`bot_scopes`), and a test greps
`bot/` for Web API calls and event listeners, so a call without an entry, or an entry
nothing calls, fails the suite. Scopes per method are Slack's bot-token scopes for the
conversation types firebell uses: incident channels it creates (public, or private for
restricted incidents), DMs that page people, and configured announcement, backlog and
team channels (which may be private).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Needs:
    """The scopes one method or event needs, and why firebell uses it."""

    scopes: tuple[str, ...]
    why: str


# Features that need a scope without a Web API call.
FEATURES: dict[str, Needs] = {
    "slash_commands": Needs(("commands",), "the /incident slash command"),
}

WEB_API: dict[str, Needs] = {
    "auth.test": Needs((), "learn the bot's own user id"),
    "chat.postMessage": Needs(
        ("chat:write", "chat:write.public"),
        "post incident messages, pages and updates; `.public` for channels it cannot join",
    ),
    "chat.update": Needs(("chat:write",), "keep the incident's main message current"),
    "conversations.create": Needs(
        ("channels:manage", "groups:write"),
        "create incident channels (private for `confidential` and `pii` services)",
    ),
    "conversations.invite": Needs(
        ("channels:manage", "groups:write"), "invite responders to incident channels"
    ),
    "conversations.join": Needs(
        ("channels:join",), "join announcement and team channels before posting there"
    ),
    "conversations.list": Needs(
        ("channels:read", "groups:read"),
        "find an incident channel (public or private) again after an interrupted create",
    ),
    "conversations.open": Needs(("im:write",), "open the DMs that page people"),
    "conversations.history": Needs(
        ("channels:history", "groups:history", "im:history"),
        "find a post an interrupted delivery made, so it is not sent twice",
    ),
    "conversations.replies": Needs(
        ("channels:history", "groups:history"),
        "read a threaded reply pinned to the timeline with :pushpin:",
    ),
    "chat.getPermalink": Needs((), "link a message pinned to the timeline with :pushpin:"),
    "pins.add": Needs(("pins:write",), "pin the incident's main message"),
    "reactions.get": Needs(
        ("reactions:read",), "keep a pin while someone's :pushpin: on the message stands"
    ),
    "views.open": Needs((), "open the declare modal (a trigger_id is the permission)"),
}

# Events firebell subscribes to: only those with a listener in bot/slack. Slash
# commands and interactivity are not events and need no subscription.
EVENTS: dict[str, Needs] = {
    "reaction_added": Needs(("reactions:read",), "a :pushpin: pins a message to the timeline"),
    "reaction_removed": Needs(("reactions:read",), "taking the :pushpin: back unpins it"),
}


def bot_scopes() -> list[str]:
    """Every bot scope the features, methods and events above need, sorted."""
    tables = (FEATURES, WEB_API, EVENTS)
    return sorted({scope for table in tables for needs in table.values() for scope in needs.scopes})
