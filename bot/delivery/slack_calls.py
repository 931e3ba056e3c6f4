"""Calling the Slack Web API and sorting its failures into retry decisions."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.retry import PermanentError, RateLimitedError, TimedOutError, TransientError

# Slack answers these with ok=false, yet they pass: trying again is the right move.
_TRANSIENT_CODES = {
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "ratelimited",
}


class SlackCallError(PermanentError):
    """Slack refused the call with an error code (`name_taken`, `channel_not_found` ...)."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"{method}: {code}")
        self.code = code


async def call(client: AsyncWebClient, method: str, **params: Any) -> dict[str, Any]:
    """Call `method`; raise RateLimited, Transient or SlackCallError on failure."""
    try:
        # The typed methods know which calls Slack wants as JSON and which as a form.
        response = await getattr(client, method.replace(".", "_"))(**params)
    except SlackApiError as err:
        # A body that is not JSON surfaces with the raw aiohttp response instead.
        status = int(getattr(err.response, "status_code", getattr(err.response, "status", 0)))
        data = getattr(err.response, "data", None)
        code = str(data.get("error", "")) if isinstance(data, dict) else ""
        if status == 429 or code == "ratelimited":
            retry_after = err.response.headers.get("Retry-After", "1")
            raise RateLimitedError(f"{method}: rate limited", float(retry_after)) from err
        if status >= 500 or code in _TRANSIENT_CODES:
            raise TransientError(f"{method}: HTTP {status} {code}".strip()) from err
        raise SlackCallError(method, code or f"HTTP {status}") from err
    except TimeoutError as err:
        raise TimedOutError(f"{method}: {type(err).__name__} {err}".strip()) from err
    except aiohttp.ClientError as err:
        raise TransientError(f"{method}: {type(err).__name__} {err}".strip()) from err
    data = response.data
    assert isinstance(data, dict)  # noqa: S101 - api_call always parses JSON
    return data
