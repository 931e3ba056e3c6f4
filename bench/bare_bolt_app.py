"""The baseline of `bench.ack_path`: a Bolt `AsyncApp` whose `/incident` listener only acks.

It is served exactly as `firebell serve` serves firebell: Bolt's
`AsyncSlackRequestHandler` on Starlette, one uvicorn process with the same options,
`SLACK_SIGNING_SECRET`, `SLACK_BOT_TOKEN`, `SLACK_API_URL`, `FIREBELL_HOST` and
`FIREBELL_PORT` from the environment. The ack carries a short ephemeral text like
firebell's, so the two differ only in what firebell does before it acks.
Bolt's `process_before_response` is on, as in firebell since commit 56b5d89;
`BARE_PROCESS_BEFORE_RESPONSE=0` turns it off (a what-if: Bolt then polls for the ack).

`BARE_FLOOR` makes the listener do the least that any durable declaration must do
before its ack, to show where the floor of this stack lies (`bench.ack_path` targets
`floor-*`):
- `thread`: hand a no-op to a worker thread and wait for it (firebell's transactions run
  in one, as SQLAlchemy's sync drivers must);
- `sqlite`: one `INSERT` and `COMMIT` through the `sqlite3` module in that thread, on a
  WAL database with firebell's pragmas (`BARE_FLOOR_DB` names the file);
- `sqlmodel`: the same row added and committed through a SQLModel `Session`.

Run: `python -m bench.bare_bolt_app`.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event
from sqlmodel import Field, Session, SQLModel, create_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FLOORS = ("thread", "sqlite", "sqlmodel")
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")


def _declared_table() -> Any:
    """The floor's one table, as a SQLModel class (built on first use, not at import)."""
    class Declared(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        request_key: str = Field(unique=True)
        text: str
        declared_at: datetime

    return Declared


def floor_work(floor: str, db_path: str) -> Callable[[str, str], Awaitable[int]]:
    """`await work(request_key, text)`: the floor's durable step; returns the row id.

    As in firebell, the database work runs in a worker thread, one call at a time, on
    one connection: several connections would wait for SQLite's write lock in its busy
    handler (sleeps of 1, 2, 5, 10 ms ...), which firebell never does.
    """
    limiter: list[anyio.CapacityLimiter] = []  # made on first use, inside the loop

    async def in_thread(fn: Callable[[str, str], int], key: str, text: str) -> int:
        if not limiter:
            limiter.append(anyio.CapacityLimiter(1))
        return await anyio.to_thread.run_sync(fn, key, text, limiter=limiter[0])

    if floor == "thread":
        return functools.partial(in_thread, lambda key, _text: len(key))
    if floor == "sqlite":
        conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS declared (id INTEGER PRIMARY KEY, "
            "request_key TEXT UNIQUE NOT NULL, text TEXT NOT NULL, declared_at TEXT NOT NULL)"
        )

        def sqlite_insert(key: str, text: str) -> int:
            conn.execute("BEGIN IMMEDIATE")
            cursor = conn.execute(
                "INSERT INTO declared (request_key, text, declared_at) VALUES (?, ?, ?)",
                (key, text, datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")
            return int(cursor.lastrowid or 0)

        return functools.partial(in_thread, sqlite_insert)
    if floor == "sqlmodel":
        declared = _declared_table()
        engine = create_engine(f"sqlite:///{db_path}", pool_size=1)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in _PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        SQLModel.metadata.create_all(engine)

        def orm_insert(key: str, text: str) -> int:
            # expire_on_commit=False, as firebell: reading the id needs no SELECT.
            with Session(engine, expire_on_commit=False) as session:
                row = declared(request_key=key, text=text, declared_at=datetime.now(UTC))
                session.add(row)
                session.commit()
                return int(row.id or 0)

        return functools.partial(in_thread, orm_insert)
    raise ValueError(f"BARE_FLOOR must be one of {', '.join(FLOORS)}, not {floor!r}")


def create_app(
    *,
    token: str,
    signing_secret: str,
    api_url: str,
    process_before_response: bool = True,
    floor: Callable[[str, str], Awaitable[int]] | None = None,
) -> Starlette:
    """Starlette app with `/slack/events` (acks only) and `/healthz`.

    `process_before_response=True` is what firebell's Bolt app uses: the response leaves
    when the listener returns. With False, Bolt runs the listener as a task and polls
    every 10 ms for its ack, which sets a 10-12 ms floor under every answer.
    """
    client = AsyncWebClient(token=token, base_url=api_url, retry_handlers=[])

    # As firebell does: a single workspace's token handed over per request by
    # `authorize`, which never calls Slack.
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    bolt = AsyncApp(
        client=client,
        authorize=authorize,
        signing_secret=signing_secret,
        logger=logging.getLogger("bench.bare.bolt"),
        process_before_response=process_before_response,
    )

    @bolt.command("/incident")
    async def incident_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        text = command.get("text", "")
        if floor is not None:
            number = await floor(f"cmd:{command.get('trigger_id')}", text)
            await ack(response_type="ephemeral", text=f"INC-{number} declared: {text[:40]}")
            return
        await ack(response_type="ephemeral", text=f"acknowledged: {text[:40]}")

    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> int:
    """Serve the bare app like `firebell serve` serves firebell."""
    try:
        token = os.environ["SLACK_BOT_TOKEN"]
        secret = os.environ["SLACK_SIGNING_SECRET"]
    except KeyError as missing:
        print(f"bare_bolt_app: set {missing.args[0]}", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper())
    floor_name = os.environ.get("BARE_FLOOR", "")
    floor = None
    if floor_name:
        db_path = os.environ.get("BARE_FLOOR_DB", "")
        if floor_name != "thread" and not db_path:
            print("bare_bolt_app: set BARE_FLOOR_DB to a file for the floor's rows",
                  file=sys.stderr)
            return 2
        try:
            floor = floor_work(floor_name, db_path)
        except ValueError as err:
            print(f"bare_bolt_app: {err}", file=sys.stderr)
            return 2
    app = create_app(
        token=token,
        signing_secret=secret,
        api_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        process_before_response=os.environ.get("BARE_PROCESS_BEFORE_RESPONSE", "1") != "0",
        floor=floor,
    )
    uvicorn.run(
        app,
        host=os.environ.get("FIREBELL_HOST", "127.0.0.1"),
        port=int(os.environ.get("FIREBELL_PORT", "3000")),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
