"""Calling the Slack Web API and sorting its failures into retry decisions; the client
that times and counts every call (`MeasuredWebClient`)."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.delivery.retry import PermanentError, RateLimitedError, TimedOutError, TransientError
from bot.metrics import Metrics

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


class MeasuredWebClient(AsyncWebClient):
    """A Web API client that records each call's duration and result in `metrics`:
    `ok`, `error` (Slack answered with an error), `ratelimited` (429) or `failed` (no
    answer: a timeout, a connection error)."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        started = time.monotonic()
        result = "failed"
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as err:
            limited = _status(err) == 429 or _code(err) == "ratelimited"
            result = "ratelimited" if limited else "error"
            raise
        else:
            result = "ok"
            return response
        finally:
            self.metrics.api_call_duration.labels(api_method).observe(time.monotonic() - started)
            self.metrics.api_calls.labels(api_method, result).inc()


def _status(err: SlackApiError) -> int:
    """The HTTP status of a refused call (a body that is not JSON surfaces with the raw
    aiohttp response instead)."""
    return int(getattr(err.response, "status_code", getattr(err.response, "status", 0)))


def _code(err: SlackApiError) -> str:
    data = getattr(err.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


async def call(client: AsyncWebClient, method: str, **params: Any) -> dict[str, Any]:
    """Call `method`; raise RateLimited, Transient or SlackCallError on failure."""
    try:
        # The typed methods know which calls Slack wants as JSON and which as a form.
        response = await getattr(client, method.replace(".", "_"))(**params)
    except SlackApiError as err:
        status, code = _status(err), _code(err)
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
