"""The ASGI app: Slack's endpoint, health checks and metrics, plus the workers' lifespan.

`create_app(settings)` builds everything (engine, Slack client, Bolt app, delivery
worker); nothing is built at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.audit.edge import audited_hook
from bot.audit.startup import audit_start
from bot.clock.kinds import KINDS, Kinds
from bot.clock.scheduler import DeadlineClock
from bot.config.load import load_config
from bot.config.model import Config
from bot.core.pii import keyed
from bot.delivery.pacing import ChannelPacer
from bot.delivery.retry import Backoff
from bot.delivery.slack import Slack
from bot.delivery.slack_calls import MeasuredWebClient
from bot.delivery.worker import DeliveryWorker
from bot.hooks.alerts import alertmanager_hook, grafana_hook
from bot.hooks.deploys import deploys_hook
from bot.hooks.feedback import feedback_hook
from bot.incidents.action_log import log_actions
from bot.incidents.drills import schedule_drills
from bot.incidents.runbook_reviews import schedule_reviews
from bot.logs import printable
from bot.metrics import CONTENT_TYPE, Metrics
from bot.reviews.schedule import schedule_review
from bot.runbooks import Runbook, load_runbooks
from bot.runtime import Runtime
from bot.settings import Settings, environment
from bot.slack.app import build_bolt_app
from bot.slack.endpoint import slack_endpoint
from bot.slack.socket_mode import Retries, SocketModeLink
from bot.store.db import Info, Store, make_engine
from bot.store.deadlines import NEXT_DUE
from bot.store.migrate import is_at_head
from bot.store.outage import describe
from bot.store.outbox import QUEUED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuning:
    """Knobs tests, drills and benchmarks turn; the defaults suit production."""

    slack_timeout: float = 10.0
    delivery_concurrency: int = 16
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    channel_per_second: float = 1.0
    channel_burst: int = 3
    socket_mode: bool = False
    socket_retries: Retries = field(default_factory=Retries)  # Socket Mode (re)connecting
    deadline_poll: float = 5.0
    after_timeout: timedelta = timedelta(seconds=15)  # before retrying a timed-out call
    after_doubt: timedelta = timedelta(seconds=1)  # before retrying a post answered 5xx
    kinds: Kinds = field(default_factory=lambda: KINDS)  # what each deadline kind does


def create_app(
    settings: Settings,
    *,
    config: Config | None = None,
    runbooks: Mapping[str, Runbook] | None = None,
    tuning: Tuning = Tuning(),
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Build firebell's ASGI app from settings (and an already loaded config), serving
    `routes` (the sandbox's) besides its own. Without `runbooks`, those of the
    runbooks folder the settings name are read."""
    token, signing_secret = settings.require_slack(socket_mode=tuning.socket_mode)
    config = keyed(config or load_config(settings.firebell_config), environment())
    store = Store(make_engine(settings.database_url))
    store.committed.append(log_actions)
    if runbooks is None:
        runbooks = load_runbooks(settings.firebell_runbooks)
    runtime = Runtime(config=config, store=store, runbooks=runbooks, metrics=Metrics())
    runtime.metrics.watch_database(store)
    client, bolt_client = _slack_clients(settings, token, tuning, runtime.metrics)
    bolt = build_bolt_app(runtime, client=bolt_client, token=token, signing_secret=signing_secret)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        return await _readiness(store, app.state.socket)

    async def metrics(_: Request) -> Response:
        return Response(await runtime.metrics.exposition(), media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=tuning.slack_timeout)
        )
        bolt_client.session = client.session
        try:
            async with (
                _background(runtime, client=client, tuning=tuning) as worker,
                _socket_mode(bolt, settings, client=bolt_client, tuning=tuning) as socket,
            ):
                app.state.worker = worker
                app.state.socket = socket
                log.info("firebell is up (instance %s)", runtime.instance)
                yield
        finally:
            await client.session.close()
            await asyncio.to_thread(store.dispose)
            log.info("firebell stopped cleanly")

    app = Starlette(
        routes=[
            Route(
                "/slack/events",
                slack_endpoint(bolt, signing_secret, metrics=runtime.metrics),
                methods=["POST"],
            ),
            Route(
                "/hooks/deploys",
                audited_hook(
                    store,
                    "deploys",
                    deploys_hook(runtime, token=settings.firebell_webhook_token),
                    unauthenticated=runtime.metrics.hook_unauthenticated,
                ),
                methods=["POST"],
            ),
            Route(
                "/hooks/alertmanager",
                audited_hook(
                    store,
                    "alertmanager",
                    alertmanager_hook(runtime, token=settings.firebell_webhook_token),
                    unauthenticated=runtime.metrics.hook_unauthenticated,
                ),
                methods=["POST"],
            ),
            Route(
                "/hooks/grafana",
                audited_hook(
                    store,
                    "grafana",
                    grafana_hook(runtime, token=settings.firebell_webhook_token),
                    unauthenticated=runtime.metrics.hook_unauthenticated,
                ),
                methods=["POST"],
            ),
            Route(
                "/hooks/feedback",
                audited_hook(
                    store,
                    "feedback",
                    feedback_hook(runtime, token=settings.firebell_webhook_token),
                    unauthenticated=runtime.metrics.hook_unauthenticated,
                ),
                methods=["POST"],
            ),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *routes,
        ],
        lifespan=lifespan,
        exception_handlers={404: _unknown_route, 405: _unknown_route},
    )
    app.state.runtime = runtime
    app.state.worker = None
    app.state.socket = None
    return app


@contextlib.asynccontextmanager
async def _background(
    runtime: Runtime, *, client: AsyncWebClient, tuning: Tuning
) -> AsyncIterator[DeliveryWorker]:
    """Delivery and the deadline clock, running until the block ends.

    Each gets a database store of its own (`Store.sibling`), so a request never queues
    behind more than one of delivery's transactions or the clock's. Whatever was started
    is stopped, in reverse order, also when a later part fails to start.
    """
    store = runtime.store
    async with contextlib.AsyncExitStack() as stack:
        http = httpx.AsyncClient(timeout=tuning.slack_timeout)
        stack.push_async_callback(http.aclose)
        delivering = store.sibling(workers=1, name="delivery")
        stack.push_async_callback(asyncio.to_thread, delivering.close)
        firing = store.sibling(workers=1, name="clock")
        stack.push_async_callback(asyncio.to_thread, firing.close)
        worker = _delivery_worker(runtime, delivering, client=client, http=http, tuning=tuning)
        delivery = asyncio.create_task(worker.run(), name="outbox delivery")

        async def stop_delivery() -> None:
            await worker.stop()
            await delivery

        stack.push_async_callback(stop_delivery)
        await _plan(firing, "the runbooks' review reminders", schedule_reviews, runtime.runbooks)
        await _plan(firing, "the rollback drills", schedule_drills, runtime.config)
        await _plan(firing, "the weekly failure review", schedule_review, runtime.config)
        await _plan(firing, "the audit trail", audit_start, runtime.config, runtime.instance)
        clock = _deadline_clock(runtime, firing, on_fired=worker.wake, tuning=tuning)
        stack.callback(clock.stop)

        def committed(info: Info) -> None:
            if info.get(QUEUED):
                worker.wake()
            if (due := info.get(NEXT_DUE)) is not None:
                clock.due_at(due)

        store.committed.append(committed)
        stack.callback(store.committed.remove, committed)
        yield worker


async def _plan(store: Store, what: str, schedule: Callable[..., object], *args: object) -> None:
    """Plan the schedules of no incident (`what`) before the clock starts; a database
    away or not migrated at start-up leaves them to the next start (logged), not
    start-up failed (`/readyz` tells what is wrong with the database)."""
    try:
        await store.run(schedule, *args)
    except DBAPIError as err:
        log.warning("could not plan %s: %s", what, describe(err))


def _delivery_worker(
    runtime: Runtime,
    store: Store,
    *,
    client: AsyncWebClient,
    http: httpx.AsyncClient,
    tuning: Tuning,
) -> DeliveryWorker:
    """The outbox worker of this process, delivering through `client`."""
    slack = Slack(
        client=client,
        store=store,
        config=runtime.config,
        http=http,
        runbooks=runtime.runbooks,
        pacer=ChannelPacer(per_second=tuning.channel_per_second, burst=tuning.channel_burst),
    )
    return DeliveryWorker(
        store=store,
        slack=slack,
        owner=f"firebell-{runtime.instance}",
        concurrency=tuning.delivery_concurrency,
        lease=tuning.lease,
        poll_interval=tuning.poll_interval,
        backoff=tuning.backoff,
        after_timeout=tuning.after_timeout,
        after_doubt=tuning.after_doubt,
        metrics=runtime.metrics,
    )


def _deadline_clock(
    runtime: Runtime, store: Store, *, on_fired: Callable[[], None], tuning: Tuning
) -> DeadlineClock:
    """This process's deadline clock, started."""
    clock = DeadlineClock(
        store=store,
        config=runtime.config,
        owner=f"firebell-{runtime.instance}",
        on_fired=on_fired,
        poll_interval=tuning.deadline_poll,
        kinds=tuning.kinds,
        metrics=runtime.metrics,
    )
    clock.start()
    return clock


def _slack_clients(
    settings: Settings, token: str, tuning: Tuning, metrics: Metrics
) -> tuple[AsyncWebClient, AsyncWebClient]:
    """The delivery worker's Web API client, and Bolt's (no token: Bolt passes one per
    request), both counting their calls in `metrics`. Neither retries on its own: the
    outbox decides what to try again."""
    timeout = int(max(tuning.slack_timeout, 1))
    client = MeasuredWebClient(
        metrics=metrics,
        token=token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[],
    )
    bolt_client = MeasuredWebClient(
        metrics=metrics, base_url=settings.slack_api_url, timeout=timeout, retry_handlers=[]
    )
    return client, bolt_client


async def _readiness(store: Store, socket: SocketModeLink | None) -> Response:
    """`/readyz`: ready when the database answers and is migrated to head, and in
    Socket Mode when the WebSocket to Slack is up (Slack cannot reach us otherwise)."""
    if socket is not None and not socket.connected:
        return JSONResponse({"status": "unavailable", "reason": "not connected to Slack"}, 503)
    try:
        ready = await asyncio.to_thread(_database_ready, store)
    except Exception as err:
        return JSONResponse({"status": "unavailable", "reason": type(err).__name__}, 503)
    if not ready:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": "database is not at the newest migration; run `firebell db upgrade`",
            },
            503,
        )
    return JSONResponse({"status": "ready"})


def _database_ready(store: Store) -> bool:
    with store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return is_at_head(store.engine)


@contextlib.asynccontextmanager
async def _socket_mode(
    bolt: AsyncApp, settings: Settings, *, client: AsyncWebClient, tuning: Tuning
) -> AsyncIterator[SocketModeLink | None]:
    """In Socket Mode, the WebSocket to Slack, connecting in the background (start-up
    never waits for Slack); closed, with its connecting given up, when the block ends."""
    if not tuning.socket_mode:
        yield None
        return
    assert settings.slack_app_token is not None  # noqa: S101 - checked by require_slack
    assert client.session is not None  # noqa: S101 - opened by the lifespan
    link = SocketModeLink(
        bolt,
        app_token=settings.slack_app_token.get_secret_value(),
        web_client=client,
        session=client.session,
        retries=tuning.socket_retries,
    )
    running = asyncio.create_task(link.run(), name="socket mode")
    try:
        yield link
    finally:
        await link.close()
        running.cancel()
        await asyncio.wait([running], timeout=5)


async def _unknown_route(request: Request, exc: Exception) -> Response:
    """Starlette's answer to a path or method it has no route for, and one WARNING
    with the method and path (never the query string, which may carry a token)."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for status codes only
    path = printable(request.url.path)
    log.warning(
        "no route for %s %s (%d)",
        printable(request.method, 20),
        path,
        exc.status_code,
        extra={"method": printable(request.method, 20), "path": path, "status": exc.status_code},
    )
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
