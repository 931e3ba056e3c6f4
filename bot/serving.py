"""`firebell serve`: bind the port, migrate, then run the app until SIGTERM or SIGINT.

The order is the point. The port is bound before anything else, so a port in use fails
at once and touches nothing. The database is migrated next, in a thread of its own, so
a stop signal during a long migration wait (a replica holding the migration lock, a
database that does not answer) is not stuck behind it. Only then does uvicorn run the
app, whose lifespan starts the clock and delivery; Socket Mode connects in the
background (`bot.slack.socket_mode`). The signals are this module's, not uvicorn's:
uvicorn only looks at its own flag once start-up has finished.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import logging
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn
from pydantic import SecretStr
from starlette.routing import BaseRoute

from bot.config.model import Config
from bot.logs import mask_also
from bot.runbooks import Runbook
from bot.sandbox.drill import Drill
from bot.settings import Settings
from bot.store.db import make_engine
from bot.store.migrate import current_revision, upgrade
from bot.web import Tuning, create_app

log = logging.getLogger(__name__)
T = TypeVar("T")

# A migration that was already running when the stop came gets this long to finish:
# a local SQLite migration takes well under a second; what takes longer is a wait (for
# the lock or the network), and giving that up leaves nothing half-done.
MIGRATION_GRACE = 3.0


class PortUnavailableError(Exception):
    """The HTTP port cannot be bound (in use, or not ours to take); nothing was started."""


@dataclass(frozen=True)
class SandboxPlan:
    """Serve the sandbox instead of talking to Slack (`bot.sandbox.launch`)."""

    drill: Drill | None = None


def serve(
    settings: Settings,
    config: Config,
    *,
    runbooks: Mapping[str, Runbook] | None = None,
    host: str,
    port: int,
    socket_mode: bool,
    sandbox: SandboxPlan | None = None,
) -> int:
    """Run firebell on `host:port` until a stop signal; the exit status.

    Raises PortUnavailableError before anything else is done if the port cannot be bound.
    """
    try:
        listener = bind(host, port)
    except OSError as err:
        raise PortUnavailableError(
            f"cannot listen on {host}:{port}: {err.strerror or err} (another firebell or "
            "program may have it: stop it, or choose another port with --port or "
            "FIREBELL_PORT)"
        ) from None
    with contextlib.ExitStack() as stack:
        stack.enter_context(listener)
        extra = _Extras()
        if sandbox is not None:
            settings, config = _with_sandbox(
                stack, extra, settings=settings, config=config, listener=listener, plan=sandbox
            )
        app = create_app(
            settings,
            config=config,
            runbooks=runbooks,
            tuning=Tuning(socket_mode=socket_mode),
            routes=extra.routes,
        )
        uvicorn_config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
        runner = stack.enter_context(asyncio.Runner(loop_factory=uvicorn_config.get_loop_factory()))
        return runner.run(_run(settings, _Server(uvicorn_config), listener, extra))
    raise AssertionError("unreachable")  # pragma: no cover - mypy cannot see the return


@dataclass
class _Extras:
    """What the sandbox adds to a plain `serve`: routes, a page, a first step."""

    routes: list[BaseRoute] = field(default_factory=list)
    page_url: str | None = None
    after_start: Callable[[], None] | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


def _with_sandbox(
    stack: contextlib.ExitStack,
    extra: _Extras,
    *,
    settings: Settings,
    config: Config,
    listener: socket.socket,
    plan: SandboxPlan,
) -> tuple[Settings, Config]:
    """Start the sandbox workspace and its deploy pipeline; the settings and config that
    point firebell at them."""
    from bot.sandbox.launch import open_sandbox  # noqa: PLC0415 - only in sandbox mode
    from bot.sandbox.page import sandbox_routes  # noqa: PLC0415
    from bot.sandbox.pipeline import Pipeline  # noqa: PLC0415

    host, port = listener.getsockname()[:2]
    loopback = "::1" if ":" in host else "127.0.0.1"
    shown = f"[{loopback}]" if ":" in loopback else loopback
    app_url = f"http://{shown}:{port}"
    token = settings.firebell_webhook_token
    hook_token = token.get_secret_value() if token else secrets.token_urlsafe(24)
    pipeline = Pipeline(app_url=app_url, token=hook_token).start()
    stack.callback(pipeline.stop)
    config = pipeline.take_over(config)
    sandbox = open_sandbox(config, app_url=app_url, drill=plan.drill)
    stack.callback(sandbox.stop)
    mask_also([*sandbox.secrets, hook_token, *pipeline.secrets.values()])
    extra.routes = sandbox_routes(sandbox.session, stopping=extra.stopping)
    shown_host = host if host not in ("0.0.0.0", "::") else loopback  # noqa: S104 - a comparison
    extra.page_url = (
        f"http://{f'[{shown_host}]' if ':' in shown_host else shown_host}:{port}/sandbox"
    )

    def first_steps() -> None:
        pipeline.report_history(config)
        if plan.drill:
            sandbox.session.start_drill()

    extra.after_start = first_steps
    if not ipaddress.ip_address(host).is_loopback:
        log.warning(
            "the sandbox is listening on %s: anyone who can reach it can act as anyone in "
            "it; serve it on 127.0.0.1 unless that is what you want",
            host,
        )
    settings = settings.model_copy(update={"firebell_webhook_token": SecretStr(hook_token)})
    return sandbox.settings_for(settings), config


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (IPv4 or IPv6, as `host` resolves)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


class _Server(uvicorn.Server):
    """uvicorn's server, leaving SIGTERM and SIGINT to `_run`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install nothing: `_run` handles the signals, also before uvicorn starts."""
        yield


async def _run(settings: Settings, server: _Server, listener: socket.socket, extra: _Extras) -> int:
    loop = asyncio.get_running_loop()
    stopping = extra.stopping

    def stop(signum: signal.Signals) -> None:
        if stopping.is_set():
            server.force_exit = True  # a second signal: do not wait for open connections
        log.info("%s received: stopping", signum.name)
        stopping.set()
        server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    host, port = listener.getsockname()[:2]
    log.info("listening on %s:%d", host, port)
    stop_requested = asyncio.create_task(stopping.wait())
    try:
        migration = _in_thread(lambda: _migrate(settings.database_url), name="migration")
        either: list[asyncio.Future[Any]] = [migration, stop_requested]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not migration.done():
            await asyncio.wait([migration], timeout=MIGRATION_GRACE)
            if not migration.done():
                log.info("stopped while waiting for the database migration (nothing started)")
                return 0
        revision = migration.result()  # an unreachable database raises here
        log.info("database at revision %s (head)", revision)
        if stopping.is_set():
            log.info("stopped before serving")
            return 0
        if extra.page_url:
            log.info(
                "sandbox: open %s in a browser (Slack in this process: nothing is sent to Slack)",
                extra.page_url,
            )
        first_step = asyncio.create_task(_after_start(server, stopping, extra.after_start))
        try:
            await server.serve(sockets=[listener])
        finally:
            first_step.cancel()
        return 0
    finally:
        stop_requested.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _after_start(
    server: _Server, stopping: asyncio.Event, step: Callable[[], None] | None
) -> None:
    """Once the server answers, run `step` (the drill's declaration) in a thread."""
    if step is None:
        return
    while not server.started:
        if stopping.is_set():
            return
        await asyncio.sleep(0.05)
    try:
        await asyncio.to_thread(step)
    except Exception:
        log.exception("the sandbox's first step failed")


def _migrate(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        return current_revision(engine)
    finally:
        engine.dispose()


def _in_thread(fn: Callable[[], T], *, name: str) -> asyncio.Future[T]:
    """`fn()` in a daemon thread: unlike `asyncio.to_thread`, one that is still waiting
    when the process exits is abandoned, not joined."""
    done: concurrent.futures.Future[T] = concurrent.futures.Future()

    def work() -> None:
        done.set_running_or_notify_cancel()
        try:
            done.set_result(fn())
        except BaseException as err:  # handed to the awaiting side, which decides
            done.set_exception(err)

    threading.Thread(target=work, name=name, daemon=True).start()
    return asyncio.wrap_future(done)
