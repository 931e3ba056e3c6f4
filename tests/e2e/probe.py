"""Requests at the edge as a test shapes them: signed or not, whole or broken.

`Probe` builds what Slack would send about the one incident of an `Edge` (a command in
its channel, an Acknowledge press, a submission of the declare form), so a case can
change one field and send it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.sandbox.fake import APP_ID, TEAM_ID, FakeSlack
from bot.store.db import Store
from tests.e2e.scenario import ACK, SERVICE, Declared
from tests.harness import Firebell

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Edge:
    """A running firebell, its fake Slack and store, and its one open incident."""

    app: Firebell
    fake: FakeSlack
    store: Store
    declared: Declared


@dataclass(frozen=True)
class Probe:
    """One case's view of the edge, with a response URL of its own."""

    edge: Edge
    response_url: str

    def post(self, body: bytes, headers: dict[str, str], content_type: str = FORM) -> Any:
        """POST exactly these bytes and headers, as Latin-1 like HTTP (no signature added)."""
        sent = {"Content-Type": content_type, **headers}
        raw = {k.encode(): v.encode("latin-1") for k, v in sent.items()}
        return httpx.post(self.edge.app.slack.url, content=body, headers=raw, timeout=10)

    def signed(self, body: bytes, content_type: str = FORM) -> Any:
        """POST `body` signed as Slack signs it, now."""
        return self.edge.app.slack.send(body, content_type)

    def interaction(self, payload: Any) -> Any:
        """A signed interactivity request whose `payload` field is `payload` as JSON."""
        return self.signed(urlencode({"payload": json.dumps(payload)}).encode())

    def command(self, text: str, **fields: str | None) -> Any:
        """A signed `/incident` command in the incident's channel; a None field is left out."""
        form = {**self.command_fields(text), **fields}
        return self.signed(urlencode({k: v for k, v in form.items() if v is not None}).encode())

    def command_fields(self, text: str) -> dict[str, str | None]:
        """The fields of a slash command as Slack sends them."""
        return {
            "token": "verification-token",
            "team_id": TEAM_ID,
            "channel_id": self.edge.declared.channel,
            "user_id": "U01ML1",
            "command": "/incident",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": self.response_url,
            "trigger_id": self.edge.fake.new_trigger_id("U01ML1"),
        }

    def press(self, value: str | None) -> Any:
        """A signed Acknowledge press carrying `value` (None: no value at all)."""
        action: dict[str, Any] = {"action_id": ACK, "block_id": "b", "type": "button"}
        if value is not None:
            action["value"] = value
        return self.interaction({**self.press_payload(), "actions": [action]})

    def press_payload(self) -> dict[str, Any]:
        """A block_actions payload on the incident's channel, by U01ML1."""
        value = str(self.edge.declared.id)
        return {
            "type": "block_actions",
            "user": {"id": "U01ML1", "username": "u01ml1", "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "team": {"id": TEAM_ID, "domain": "firebell-test"},
            "channel": {"id": self.edge.declared.channel, "name": "inc"},
            "container": {"type": "message", "channel_id": self.edge.declared.channel},
            "trigger_id": self.edge.fake.new_trigger_id("U01ML1"),
            "response_url": self.response_url,
            "actions": [{"action_id": ACK, "block_id": "b", "type": "button", "value": value}],
        }

    def submit(self, title: str = "Prices are wrong", **changes: Any) -> Any:
        """A signed submission of the declare form; `changes` replace payload fields."""
        return self.interaction({**self.form_payload(title), **changes})

    def form_payload(self, title: str, description: str = "") -> dict[str, Any]:
        """A view_submission of the declare form, by U01ML2."""
        scope = {"type": "static_select", "selected_option": {"value": f"service:{SERVICE}"}}
        values = {
            "title": {"value": {"type": "plain_text_input", "value": title}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P2"}}},
            "scope": {"value": scope},
            "description": {"value": {"type": "plain_text_input", "value": description}},
        }
        view = {
            "id": "V0FORM1",
            "type": "modal",
            "callback_id": "declare_incident",
            "private_metadata": "{}",
            "state": {"values": values},
        }
        return {
            "type": "view_submission",
            "user": {"id": "U01ML2", "team_id": TEAM_ID},
            "team": {"id": TEAM_ID},
            "view": view,
        }
