"""`POST /hooks/alertmanager` and `POST /hooks/grafana`: a monitoring system notifies
firebell of a group of alerts; firebell keeps the notification once and turns it into
incidents, answering before any Slack call.

Who may notify: a request with `Authorization: Bearer <FIREBELL_WEBHOOK_TOKEN>`
(Alertmanager's `http_config.authorization`, Grafana's "Authorization Header"); 401
otherwise, also when no token is configured. When `alerts.grafana.secret_env` names a
set variable, Grafana's calls must also carry its HMAC signature (see `grafana_signed`).

Then the body: at most `MAX_BODY` bytes (413, not read past that), JSON without
`NaN`/`Infinity` (400), an object (400), the sender's payload (422 naming the field,
`bot.integrations`: also a NUL or lone surrogate in a field stored as text). An
accepted body is kept (`AlertNotification`, with its hash; stored with NULs and lone
surrogates replaced, as labels and annotations are) and ingested
(`bot.incidents.alerts.ingest`) in one transaction; the answer comes after the commit:
200 `{"ok": true, "notification": n, "duplicate": false, "outcome": ...}`. The same
body again (Alertmanager retries after a 5xx or a timeout) is kept once and changes
nothing: 200 with `"duplicate": true`. 503 while the database cannot be reached, so
the sender retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import SecretStr
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.audit.trail import acting_from
from bot.config.model import Config
from bot.core.alert_routing import route_notification
from bot.core.pii import redact_for, redact_json
from bot.hooks.edge import authenticated, bearer_matches, read_at_most, refused
from bot.incidents.alerts import ingest
from bot.integrations import alertmanager, grafana
from bot.integrations.errors import PayloadError
from bot.integrations.fields import cleaned_json
from bot.integrations.model import Notification, Source
from bot.logs import printable
from bot.runtime import Runtime
from bot.settings import environment
from bot.store.alert_notifications import keep_notification
from bot.store.db import db_now
from bot.store.outage import is_unreachable

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]
Parser = Callable[[Mapping[str, Any]], Notification]
# Alertmanager sends one group per call; a few thousand alerts fit in well under this.
MAX_BODY = 2 * 1024 * 1024
# Grafana's signature header: the name its contact point form suggests, and the one its
# HMAC signer (grafana/alerting `http/hmac.go`) uses when that field is left empty.
SIGNATURE_HEADERS = ("x-grafana-alerting-signature", "x-grafana-alert-signature")
# Grafana sends a timestamp (Unix seconds, signed as `<timestamp>:<body>`) only under a
# header name the contact point sets; these are the names firebell's docs give.
TIMESTAMP_HEADERS = ("x-grafana-alerting-signature-timestamp", "x-grafana-alerting-timestamp")

Check = Callable[[Request, bytes], str | None]  # None: signed well; else why not


def alertmanager_hook(runtime: Runtime, *, token: SecretStr | None) -> Endpoint:
    """The endpoint of `POST /hooks/alertmanager`."""
    return _hook(runtime, "alertmanager", alertmanager.parse, token=token, check=None)


def grafana_hook(
    runtime: Runtime, *, token: SecretStr | None, environ: Mapping[str, str] | None = None
) -> Endpoint:
    """The endpoint of `POST /hooks/grafana`; the HMAC secret is read from `environ` (by
    default the environment and `.env`) once, here."""
    environ = environment() if environ is None else environ
    secret_env = runtime.config.alerts.grafana.secret_env
    secret = environ.get(secret_env) if secret_env else None
    if secret_env and not secret:
        log.warning(
            "alerts.grafana.secret_env names %s, which is not set: Grafana's calls are "
            "taken without a signature",
            printable(secret_env, 80),
        )
    check = None if not secret else _signature_check(secret.encode())
    return _hook(runtime, "grafana", grafana.parse, token=token, check=check)


def grafana_signed(secret: bytes, body: bytes, timestamp: str | None = None) -> str:
    """The hex HMAC-SHA256 Grafana sends: over `<timestamp>:<body>` when it sends a
    timestamp, else over the body alone."""
    signed = body if timestamp is None else timestamp.encode() + b":" + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def _signature_check(secret: bytes) -> Check:
    """Whether a request carries Grafana's signature of its body made with `secret`.

    The timestamp is not checked for freshness: a replayed body is the same body, which
    is kept once, and Grafana's clock may differ from firebell's.
    """

    def check(request: Request, body: bytes) -> str | None:
        given = next((request.headers[h] for h in SIGNATURE_HEADERS if h in request.headers), "")
        if not given.strip():
            return "missing X-Grafana-Alerting-Signature (HMAC-SHA256 of the body)"
        timestamp = next(
            (request.headers[h] for h in TIMESTAMP_HEADERS if h in request.headers), None
        )
        expected = grafana_signed(secret, body, timestamp)
        if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
            return "wrong X-Grafana-Alerting-Signature: not signed with alerts.grafana's secret"
        return None

    return check


def _hook(
    runtime: Runtime, source: Source, parse: Parser, *, token: SecretStr | None, check: Check | None
) -> Endpoint:
    async def hook(request: Request) -> Response:
        if not bearer_matches(request, token):
            if token is None:
                return refused(
                    request,
                    401,
                    "alert notifications are refused: FIREBELL_WEBHOOK_TOKEN is not set",
                )
            return refused(request, 401, "missing or wrong bearer token")
        authenticated(request)
        raw = await read_at_most(request, MAX_BODY)
        if raw is None:
            return refused(request, 413, f"body over {MAX_BODY} bytes")
        if check is not None and (why := check(request, raw)) is not None:
            return refused(request, 401, why)
        try:
            body = json.loads(raw, parse_constant=_no_constant)
        except NotJSONNumberError as err:
            return refused(request, 400, str(err))
        except ValueError:
            return refused(request, 400, "the body is not JSON")
        if not isinstance(body, dict):
            return refused(request, 400, "the body must be a JSON object (a notification)")
        try:
            notification = parse(body)
        except PayloadError as err:
            return refused(request, 422, str(err), fields=[err.field])
        try:
            kept = await runtime.run(
                acting_from("hook", _keep),
                runtime.config,
                source=source,
                body=body,
                raw=raw,
                notification=notification,
            )
        except Exception as err:
            if not is_unreachable(err):
                raise
            return refused(request, 503, "the database cannot be reached; try again")
        log.info(
            "alert notification %s from %s: %d alerts of group %s, %s",
            "repeated" if kept.duplicate else "kept",
            source,
            len(notification.alerts),
            printable(notification.group_key, 120),
            kept.outcome or "recorded",
            extra={"notification_id": kept.id, "source": source, "outcome": kept.outcome},
        )
        outcome = "duplicate" if kept.duplicate else kept.outcome or "recorded"
        runtime.metrics.alert_notifications.labels(source, outcome).inc()
        return JSONResponse(
            {
                "ok": True,
                "notification": kept.id,
                "duplicate": kept.duplicate,
                "outcome": kept.outcome,
            }
        )

    return hook


class NotJSONNumberError(ValueError):
    """A body holding `NaN`, `Infinity` or `-Infinity`, which Python reads but JSON does
    not have (and PostgreSQL's json refuses)."""


def _no_constant(name: str) -> object:
    raise NotJSONNumberError(
        f"the body holds {name}, which is not a JSON number: send numbers or strings"
    )


@dataclass(frozen=True)
class Kept:
    """The notification's row, whether an earlier call kept the same body, and what it did."""

    id: int
    duplicate: bool
    outcome: str


def _keep(
    session: Session,
    config: Config,
    *,
    source: Source,
    body: dict[str, Any],
    raw: bytes,
    notification: Notification,
) -> Kept:
    """Keep the notification and, unless it is a retry, ingest it (one transaction).

    A body seen again within the retry window (`RETRY_WINDOW`) is a retry: answered with
    the first call's row and outcome, nothing done. Later, the same body is a repeat
    (`repeat_interval`): kept and ingested again, which changes nothing while its group's
    incident is open, and opens a new incident once a person has resolved that one.
    """
    now = db_now(session)
    said = partial(redact_for, config, route_notification(config, notification).service)
    notification, body = notification.redacted(said), redact_json(body, said)
    row, retry = keep_notification(
        session,
        source=source,
        received_at=now,
        body=cleaned_json(body),
        raw=raw,
        group_key=notification.group_key,
    )
    assert row.id is not None  # noqa: S101 - flushed
    if retry:
        return Kept(row.id, duplicate=True, outcome=row.outcome)
    ingest(session, config, notification, notification_id=row.id, now=now)
    session.refresh(row)
    return Kept(row.id, duplicate=False, outcome=row.outcome)
