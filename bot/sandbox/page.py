"""`/sandbox`: the page, its files, its JSON API and a stream of change notices.

The routes are thin: each reads the request, calls one `Session` method in a thread
(they wait for firebell's answer over HTTP, which this same server gives), and answers
JSON. A `SandboxError` is the page's mistake or Slack's refusal, answered 400 with the
reason; any other error is a bug and is left to Starlette.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from bot.sandbox.interactions import SandboxError
from bot.sandbox.model import Json
from bot.sandbox.session import Session

# The page runs only its own files: users' words reach it as escaped HTML, and even a
# renderer bug could not run a script of theirs.
POLICY = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
WATCH_INTERVAL = 0.1  # how often the event stream looks for changes, in seconds
KEEPALIVE = 15.0  # a comment line this often keeps proxies from closing the stream
MAX_BODY = 64 * 1024


def sandbox_routes(session: Session, *, stopping: asyncio.Event | None = None) -> list[BaseRoute]:
    """The sandbox's routes, mounted at `/sandbox`; `stopping` ends the event streams."""

    async def page(_: Request) -> Response:
        return _static("sandbox.html")

    async def static(request: Request) -> Response:
        return _static(str(request.path_params["name"]))

    async def state(request: Request) -> Response:
        return await _answer(session.state, request.query_params.get("as") or None)

    async def channel(request: Request) -> Response:
        return await _answer(session.channel, _as(request), request.path_params["channel"])

    async def say(request: Request) -> Response:
        body = await _json(request)
        return await _answer(
            session.say, _str(body, "as"), _str(body, "channel"), _str(body, "text")
        )

    async def action(request: Request) -> Response:
        body = await _json(request)
        return await _answer(session.act, _str(body, "as"), body)

    async def react(request: Request) -> Response:
        body = await _json(request)
        return await _answer(
            session.react,
            _str(body, "as"),
            _str(body, "channel"),
            _str(body, "ts"),
            _str(body, "name"),
        )

    async def submit(request: Request) -> Response:
        body = await _json(request)
        values = body.get("values")
        if not isinstance(values, dict):
            return _refused("values must be an object of {block_id: {action_id: value}}")
        return await _answer(session.submit, _str(body, "as"), request.path_params["view"], values)

    async def dismiss(request: Request) -> Response:
        body = await _json(request)
        return await _answer(session.dismiss, _str(body, "as"), request.path_params["view"])

    async def events(_: Request) -> Response:
        return StreamingResponse(
            _changes(session, stopping or asyncio.Event()),
            media_type="text/event-stream",
            headers={**HEADERS, "X-Accel-Buffering": "no"},
        )

    api = [
        Route("/state", _guarded(state), methods=["GET"]),
        Route("/channels/{channel}", _guarded(channel), methods=["GET"]),
        Route("/events", _guarded(events), methods=["GET"]),
        Route("/say", _guarded(say), methods=["POST"]),
        Route("/action", _guarded(action), methods=["POST"]),
        Route("/react", _guarded(react), methods=["POST"]),
        Route("/views/{view}/submit", _guarded(submit), methods=["POST"]),
        Route("/views/{view}/close", _guarded(dismiss), methods=["POST"]),
    ]
    return [
        Route("/sandbox", _guarded(page), methods=["GET"]),
        Mount(
            "/sandbox",
            routes=[
                Route("/", _guarded(page), methods=["GET"]),
                Route("/static/{name}", _guarded(static), methods=["GET"]),
                Mount("/api", routes=api),
            ],
        ),
    ]


class _BadRequestError(Exception):
    """The page sent something the API does not take."""


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """`handler` behind the sandbox's door checks, answering 400 with the reason when
    the request is not one it takes."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        refusal = _foreign(request)
        if refusal is not None:
            return JSONResponse({"ok": False, "error": refusal}, 403, headers=HEADERS)
        try:
            return await handler(request)
        except _BadRequestError as err:
            return _refused(str(err))

    return guarded


def _foreign(request: Request) -> str | None:
    """Why a request may come from another site, acting for the person at the page.

    The API has no login: whoever reaches it may act as anyone, which is what a
    sandbox on a loopback address is for. What it must not do is act for a web page of
    another site open in the same browser. Such a page can send a form or a text/plain
    POST without asking, so a POST must be JSON (which a browser sends to another
    origin only after a CORS preflight this app never grants) and come from this
    origin; and a page whose own name resolves here (DNS rebinding) is refused by
    naming the sandbox only as an IP address or `localhost`.
    """
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    if name != "localhost" and not _is_ip(name):
        return "open the sandbox as http://127.0.0.1:PORT/sandbox (or localhost)"
    if request.method == "POST":
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{host}":
            return "requests from another site are refused"
        if not request.headers.get("content-type", "").startswith("application/json"):
            return "send JSON (Content-Type: application/json)"
    return None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _static(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    file = resources.files("bot.sandbox").joinpath("static", name)
    if "/" in name or suffix not in _TYPES or not file.is_file():
        return JSONResponse({"error": f"no file {name!r}"}, 404, headers=HEADERS)
    return Response(file.read_bytes(), media_type=_TYPES[suffix], headers=HEADERS)


def _as(request: Request) -> str:
    user = request.query_params.get("as", "")
    if not user:
        raise _BadRequestError("say who you are: ?as=<user id>")
    return user


def _str(body: Json, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _BadRequestError(f"{key} must be a string")
    return value


async def _json(request: Request) -> Json:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _BadRequestError("the request is too large")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise _BadRequestError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise _BadRequestError("the body must be a JSON object")
    return body


async def _answer(call: Callable[..., Json], *args: Any) -> Response:
    try:
        result = await asyncio.to_thread(call, *args)
    except SandboxError as err:
        return _refused(str(err))
    return JSONResponse(result, headers=HEADERS)


def _refused(reason: str) -> Response:
    return JSONResponse({"ok": False, "error": reason}, 400, headers=HEADERS)


async def _changes(session: Session, stopping: asyncio.Event) -> AsyncIterator[str]:
    """`change` events as the workspace's version moves, until the server stops."""
    seen = -1
    quiet = 0.0
    yield "retry: 1000\n\n"
    while not stopping.is_set():
        version = session.fake.version
        if version != seen:
            seen = version
            quiet = 0.0
            yield f"event: change\ndata: {json.dumps({'version': version})}\n\n"
        elif quiet >= KEEPALIVE:
            quiet = 0.0
            yield ": still here\n\n"
        await _wait(stopping, WATCH_INTERVAL)
        quiet += WATCH_INTERVAL


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
