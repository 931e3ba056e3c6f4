"""`POST /hooks/deploys`: a pipeline reports a deploy; firebell records it once.

Who may report: a request with `Authorization: Bearer <FIREBELL_WEBHOOK_TOKEN>`, or
one signed per Standard Webhooks with the secret in the environment variable that
`deploys.secret_env` names. Nothing of the body is parsed before one of them holds
(401 otherwise). Then the body must be a JSON object of the fields of `DeployBody`
(422 naming the field at fault, 400 for a body that is not JSON, 413 past
`MAX_BODY`).

Answers: 201 `{"recorded": true, "id": n}` for a new deploy; 200 `{"recorded": false,
"duplicate": true, "id": n}` for a report already recorded (the same body again, or
the same signed message retried); 503 while the database cannot be reached, so the
pipeline tries again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.audit.trail import acting_from
from bot.core.deploys import environment_of
from bot.core.text import forbidden_character, is_blank
from bot.hooks.edge import MAX_BODY, authenticated, bearer_matches, read_at_most, refused
from bot.incidents.deploys import Report, record_deploy
from bot.logs import printable
from bot.runtime import Runtime
from bot.settings import environment
from bot.store.outage import is_unreachable
from bot.webhooks.standard import SecretError, SignatureError, verify

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


def _text(value: str) -> str:
    """Printable text: no control characters, not blank."""
    if forbidden_character(value) is not None or "\n" in value or "\t" in value:
        raise ValueError("must be one line of printable text")
    if is_blank(value):
        raise ValueError("must not be blank")
    return value


class DeployBody(BaseModel):
    """A deploy report as a pipeline sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    service: str = Field(min_length=1, max_length=80)
    version: str = Field(min_length=1, max_length=120)
    environment: str | None = Field(
        default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )
    actor: str | None = Field(default=None, min_length=1, max_length=120)
    url: str | None = Field(default=None, min_length=1, max_length=500)
    at: AwareDatetime | None = None

    @field_validator("service", "version", "actor")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return None if value is None else _text(value)

    @field_validator("url")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        if any(c.isspace() or c in '<>|"' or not c.isprintable() for c in value):
            raise ValueError('must not contain spaces, control characters or <>|"')
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        # Unix seconds would be taken by pydantic's lax mode; the contract is ISO 8601.
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO 8601 time with an offset, e.g. 2026-03-01T09:00:00Z")
        return value


def deploys_hook(
    runtime: Runtime,
    *,
    token: SecretStr | None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Endpoint:
    """The endpoint of `POST /hooks/deploys`; the signing secret is read from `environ`
    (by default the environment and `.env`) once, here."""
    environ = environment() if environ is None else environ
    secret_env = runtime.config.deploys.secret_env
    secret = environ.get(secret_env) if secret_env else None
    if secret_env and not secret:
        log.warning(
            "deploys.secret_env names %s, which is not set: signed deploy reports are refused",
            printable(secret_env, 80),
        )

    async def deploys(request: Request) -> Response:
        bearer = bearer_matches(request, token)
        if not bearer and not secret:
            if token is None:
                return refused(
                    request,
                    401,
                    "deploy reports are refused: FIREBELL_WEBHOOK_TOKEN is not set "
                    "(nor a signing secret in deploys.secret_env)",
                )
            return refused(request, 401, "missing or wrong bearer token")
        if bearer:
            authenticated(request)
        body = await read_at_most(request, MAX_BODY)
        if body is None:
            return refused(request, 413, f"body over {MAX_BODY} bytes")
        message_id = None
        if not bearer:
            assert secret is not None  # noqa: S101 - checked above
            try:
                verify(secret, dict(request.headers), body, now=clock())
            except SignatureError as err:
                return refused(request, 401, f"no valid bearer token or signature: {err}")
            except SecretError:
                return refused(
                    request, 401, f"the signing secret in {secret_env} is not a whsec_ secret"
                )
            authenticated(request)
            message_id = request.headers["webhook-id"]
        return await _record(request, runtime, body, message_id)

    return deploys


async def _record(
    request: Request, runtime: Runtime, body: bytes, message_id: str | None
) -> Response:
    """Read an authenticated body and record its deploy."""
    try:
        data = json.loads(body)
    except ValueError:
        return refused(request, 400, "the body is not JSON")
    try:
        report = DeployBody.model_validate(data)
    except ValidationError as err:
        problems = [_problem(error) for error in err.errors()]
        return refused(
            request,
            422,
            "; ".join(f"{field}: {why}" for field, why in problems),
            fields=[field for field, _ in problems],
        )
    config = runtime.config
    if report.service not in config.services:
        known = ", ".join(sorted(config.services)) or "none configured"
        return refused(
            request,
            422,
            f"service: unknown service {report.service!r}; known services: {known}",
            fields=["service"],
        )
    environment = report.environment or environment_of(config, report.service)
    try:
        recorded = await runtime.run(
            acting_from("hook", record_deploy),
            config,
            report=Report(
                service=report.service,
                environment=environment,
                version=report.version,
                actor=report.actor,
                url=report.url,
                at=report.at,
                message_id=message_id,
            ),
        )
    except Exception as err:
        if not is_unreachable(err):
            raise
        return refused(request, 503, "the database cannot be reached; try again")
    if not recorded.recorded:
        return JSONResponse({"recorded": False, "duplicate": True, "id": recorded.id}, 200)
    log.info(
        "deploy recorded: %s %s %s",
        printable(report.service, 80),
        printable(environment, 40),
        printable(report.version, 120),
        extra={
            "deploy_id": recorded.id,
            "service": report.service,
            "environment": environment,
            "version": printable(report.version, 120),
            "rollback_id": recorded.rollback_id,
        },
    )
    return JSONResponse({"recorded": True, "id": recorded.id}, 201)


def _problem(error: Any) -> tuple[str, str]:
    """(field, what is wrong) of one pydantic error, without the value given."""
    location = ".".join(str(part) for part in error.get("loc", ())) or "body"
    message = str(error.get("msg", "is invalid"))
    if error.get("type") == "model_type":
        return "body", "must be a JSON object"
    return location, message.removeprefix("Value error, ")
