"""An ephemeral answer to a button press, through the press's `response_url`."""

from __future__ import annotations

import httpx

from bot.delivery.retry import PermanentError, TransientError
from bot.delivery.slack import Claimed, Slack


async def respond(slack: Slack, claimed: Claimed) -> None:
    """POST the answer to the response URL (valid 30 minutes, five uses)."""
    payload = claimed.row.payload
    answer = {"response_type": "ephemeral", "replace_original": False, "text": str(payload["text"])}
    try:
        response = await slack.http.post(str(payload["url"]), json=answer)
    except httpx.HTTPError as err:
        raise TransientError(f"response_url: {type(err).__name__}") from err
    if response.status_code >= 500:
        raise TransientError(f"response_url: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise PermanentError(f"response_url: HTTP {response.status_code}")
