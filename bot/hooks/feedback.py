"""`POST /hooks/feedback`: an AI product reports failure cases (wrong answers, low
confidence, thumbs down, hand-overs to a person); firebell keeps them and counts them
in `/metrics` as `firebell_feedback_events_total{service,kind}`.

Who may report: a request with `Authorization: Bearer <FIREBELL_WEBHOOK_TOKEN>` (401
otherwise, also when no token is configured). Then the body: at most `MAX_BODY` bytes
(413, not read past that), JSON (400), one case, or a batch of up to 500 as
`{"events": [...]}` or a bare array (`bot.feedback.model`; 422 naming the field, e.g.
`events[3].kind`).

Every case of a body is kept in one transaction, each `ref` once per service and kind;
the answer comes after the commit: 200 `{"ok": true, "kept": n, "repeated": m}` (m:
cases whose ref was already kept, which are not counted again). 503 while the database
cannot be reached, so the product retries: nothing of that body was kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.audit.trail import acting_from
from bot.feedback.cases import keep_cases
from bot.feedback.model import KINDS, FeedbackError, parse_body
from bot.hooks.edge import authenticated, bearer_matches, read_at_most, refused
from bot.runtime import Runtime
from bot.store.outage import is_unreachable

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
# 500 cases of 2,000 characters each, with their fields, fit in well under this.
MAX_BODY = 1024 * 1024


def feedback_hook(runtime: Runtime, *, token: SecretStr | None) -> Endpoint:
    """The endpoint of `POST /hooks/feedback`; every service's and kind's counter starts
    at 0 here, so that Prometheus' `rate()` sees the first case."""
    counter = runtime.metrics.feedback_events
    for service in runtime.config.services:
        for kind in KINDS:
            counter.labels(service, kind)

    async def feedback(request: Request) -> Response:
        if not bearer_matches(request, token):
            if token is None:
                return refused(
                    request, 401, "failure cases are refused: FIREBELL_WEBHOOK_TOKEN is not set"
                )
            return refused(request, 401, "missing or wrong bearer token")
        authenticated(request)
        raw = await read_at_most(request, MAX_BODY)
        if raw is None:
            return refused(request, 413, f"body over {MAX_BODY} bytes: send at most 500 cases")
        try:
            body = json.loads(raw, parse_constant=_no_constant)
        except _NotJSONError as err:
            return refused(request, 400, str(err))
        except (ValueError, RecursionError):  # RecursionError: nested too deep to read
            return refused(request, 400, "the body is not JSON")
        try:
            events = parse_body(body, runtime.config.services)
        except FeedbackError as err:
            return refused(request, 422, str(err), fields=[err.field])
        try:
            kept = await runtime.run(acting_from("hook", keep_cases), runtime.config, events)
        except Exception as err:
            if not is_unreachable(err):
                raise
            return refused(request, 503, "the database cannot be reached; try again")
        for (service, kind), count in kept.kept.items():
            counter.labels(service, kind).inc(count)
        log.info(
            "failure cases: %d kept, %d repeated",
            kept.count,
            kept.repeated,
            extra={"kept": kept.count, "repeated": kept.repeated},
        )
        return JSONResponse({"ok": True, "kept": kept.count, "repeated": kept.repeated})

    return feedback


class _NotJSONError(ValueError):
    """A body holding `NaN` or `Infinity`, which Python reads but JSON does not have."""


def _no_constant(name: str) -> object:
    raise _NotJSONError(f"the body holds {name}, which is not a JSON number")
