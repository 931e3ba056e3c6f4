"""A fake Slack Web API served over real HTTP, for end-to-end tests.

The bot talks to it as it talks to Slack: point ``SLACK_API_URL`` at ``fake.api_url``.
It keeps users, channels, messages, pins and views, answers with Slack's response shapes
and error codes, enforces Slack's rules (channel names, Block Kit limits, trigger_id
expiry, Slack's rate limits when asked: ``FakeSlack(rate_limits=RateLimits(scale=60))``,
see bot/sandbox/ratelimits.py) and misbehaves on demand: queued faults
(``inject``, ``script``) and seeded random ones (``chaos``), including calls that take
effect and then fail (see bot/sandbox/faults.py for the kinds). Attributes such as
``fake.channels`` are the live state; query methods return snapshots.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

from bot.sandbox.faults import (
    DEGRADED_SLACK,
    SPARED_METHODS,
    Chaos,
    Fate,
    Fault,
    FaultPlan,
    Reply,
    check_kind,
    json_reply,
)
from bot.sandbox.http import ApiServer, parse_params
from bot.sandbox.model import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Call,
    Channel,
    Edit,
    Ephemeral,
    Json,
    Message,
    ResponsePost,
    SlackError,
    User,
    View,
)
from bot.sandbox.ratelimits import RateLimits
from bot.sandbox.webapi import SlackWebApi

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "DEGRADED_SLACK",
    "SPARED_METHODS",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "Call",
    "Channel",
    "Chaos",
    "Edit",
    "Ephemeral",
    "FakeSlack",
    "Fault",
    "Message",
    "RateLimits",
    "ResponsePost",
    "User",
    "View",
]

T = TypeVar("T")

RESPONSE_URL_USES = 5  # Slack accepts five posts to one response URL


class FakeSlack(SlackWebApi):
    """Slack's Web API and response URLs, in memory, on ``127.0.0.1:<free port>``."""

    def __init__(
        self, *, bot_token: str | None = None, rate_limits: RateLimits | None = None
    ) -> None:
        self._made_with = rate_limits  # what reset() goes back to
        # Fresh tokens for every workspace: the sandbox's are never a constant.
        self.bot_token = bot_token or f"xoxb-sandbox-{secrets.token_hex(12)}"
        self.app_token = f"xapp-sandbox-{secrets.token_hex(12)}"
        # Where apps.connections.open sends Socket Mode clients (see tests/fakesocket.py).
        self.socket_url: str | None = None
        self._stopping = threading.Event()
        self._server: ApiServer | None = None
        self._thread: threading.Thread | None = None
        super().__init__()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Serve on a free port in a daemon thread."""
        self._stopping.clear()
        self._server = ApiServer(self.handle)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() waits up to this long
            name="fakeslack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes requests sleeping in injected latency or timeouts."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be; slack_sdk calls ``{api_url}{method}``."""
        return f"{self.base_url}/api/"

    def reset(self) -> None:
        """Back to the initial workspace: no messages, calls, faults or chaos, and the
        rate limits it was made with."""
        with self._lock:
            super().reset()
            self.rate_limits = self._made_with
            self.calls: list[Call] = []
            self.responses: list[ResponsePost] = []
            self.latency = 0.0
            self._faults = FaultPlan()
            self._response_uses: dict[str, int] = {}
            self._response_targets: dict[str, tuple[str, str | None]] = {}

    def response_url(self, *, user_id: str | None = None, channel_id: str | None = None) -> str:
        """A fresh response URL (five posts allowed); posts land in ``responses``, marked
        with the ``user_id`` and ``channel_id`` it was handed out for."""
        with self._lock:
            url_id = secrets.token_hex(8)
            self._response_uses[url_id] = 0
            if user_id is not None:
                self._response_targets[url_id] = (user_id, channel_id)
        return f"{self.base_url}/response/{url_id}"

    # -- misbehaviour ----------------------------------------------------------------------

    def inject(
        self,
        method: str,
        kind: str,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 0.0,
        *,
        after_effect: bool = False,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (``*``: any API method).

        kinds: ``429`` (``Retry-After: retry_after``), ``500``, ``503`` (HTML), ``timeout``
        and ``latency`` (sleep ``delay``), ``error:<code>``, ``ok``; ``after_effect=True``
        or ``effect+500|503|timeout`` fails after the call took effect (all in
        bot/sandbox/faults.py). Faults queue in the order injected: a call takes the
        first one for its method or ``*``, which matches no response URL post (method
        ``response_url``).
        """
        if after_effect and not kind.startswith("effect+"):
            kind = f"effect+{kind}"
        check_kind(kind)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.queue.append(Fault(method, kind, times, retry_after, delay))

    def script(
        self, method: str, kinds: Sequence[str], *, retry_after: int = 1, delay: float = 0.0
    ) -> None:
        """Answer the next calls to ``method`` with ``kinds`` in order, then normally.

        ``ok`` answers one call normally: ``["500", "ok", "effect+503"]``. The same as one
        ``inject(method, kind)`` per entry, queued after the faults already waiting.
        """
        for kind in kinds:
            check_kind(kind)
        with self._lock:
            self._faults.queue += [Fault(method, k, 1, retry_after, delay) for k in kinds]

    def chaos(self, config: Chaos | None) -> None:
        """Give every later call a random fate (``None``: stop); queued faults go first.

        ``DEGRADED_SLACK`` is issue 11's degraded Slack; vary it with
        ``dataclasses.replace(DEGRADED_SLACK, effect_then_error=True, seed=7)``.
        """
        with self._lock:
            self._faults.set_chaos(config)

    def calm(self) -> None:
        """Stop the chaos; queued faults and the stats stay."""
        self.chaos(None)

    def clear_faults(self) -> None:
        """Forget every fault still queued (the chaos, if any, goes on)."""
        with self._lock:
            self._faults.queue = []

    def injected(self, method: str | None = None) -> dict[str, int]:
        """How many calls (to ``method``, or to any) got each fault: ``{"503": 4, ...}``.

        Labels are the kinds, ``effect+`` included; chaos's latency alone is not counted.
        """
        with self._lock:
            return self._faults.counts(method)

    # -- queries -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every call received for ``method``, oldest first."""
        with self._lock:
            return copy.deepcopy([c for c in self.calls if c.method == method])

    def messages_in(self, channel_id: str) -> list[Message]:
        """Messages (thread replies included, deleted ones not) in a channel, oldest first."""
        with self._lock:
            return copy.deepcopy(
                [m for m in self.messages if m.channel == channel_id and not m.deleted]
            )

    def channel_by_name(self, name: str) -> Channel | None:
        """The channel called ``name`` (without ``#``), if there is one."""
        with self._lock:
            found = next((c for c in self.channels.values() if c.name == name), None)
            return copy.deepcopy(found)

    def dms_to(self, user_id: str) -> list[Message]:
        """Messages posted to the bot's IM with ``user_id``."""
        with self._lock:
            ims = {c.id for c in self.channels.values() if c.is_im and c.user == user_id}
            return copy.deepcopy([m for m in self.messages if m.channel in ims and not m.deleted])

    def opened_views(self, callback_id: str | None = None) -> list[View]:
        """Views opened with views.open (only those with ``callback_id``, if given)."""
        with self._lock:
            views = [v for v in self.views.values() if callback_id in (None, v.callback_id)]
            return copy.deepcopy(views)

    def ephemerals_to(self, user_id: str) -> list[Ephemeral]:
        """Ephemeral messages shown to ``user_id``, oldest first."""
        with self._lock:
            return copy.deepcopy([e for e in self.ephemerals if e.user == user_id])

    def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0, interval: float = 0.01
    ) -> T:
        """Poll until ``predicate`` returns something truthy, and return it."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s\n{self.dump()}")
            time.sleep(interval)

    def dump(self) -> str:
        """Recent calls, messages and responses, for assertion messages."""
        with self._lock:
            lines = ["recent calls:"]
            lines += [
                f"  {c.method} -> {c.status}{f' ({c.fault})' * bool(c.fault)} "
                f"{json.dumps(c.response)[:160]}"
                for c in self.calls[-25:]
            ]
            lines.append("messages:")
            for m in self.messages[-25:]:
                where = self.channels[m.channel].name or m.channel
                lines.append(f"  #{where} {m.ts} {m.text[:120]!r}{' (deleted)' * m.deleted}")
            lines.append("responses:")
            lines += [f"  {r.id} {json.dumps(r.body)[:160]}" for r in self.responses[-10:]]
            return "\n".join(lines)

    # -- HTTP entry point ----------------------------------------------------------------

    def handle(
        self, path: str, query: str, auth: str | None, content_type: str, body: bytes
    ) -> Reply:
        """Answer one HTTP request; sleeps happen outside the lock."""
        self._pause(self.latency)
        is_response = path.startswith("/response/")
        method = "response_url" if is_response else path.removeprefix("/api/")
        if not is_response and not path.startswith("/api/"):
            return json_reply({"ok": False, "error": "not_found"}, 404)
        try:
            params: Json | None = parse_params(query, content_type, body)
        except ValueError:
            params = None
        with self._lock:
            call = Call(method, params or {}, time.time())
            self.calls.append(call)
            fate = self._faults.take(method, is_response)
            call.fault = fate.label
        self._pause(fate.wait)
        if fate.kind is None or fate.after_effect:
            with self._lock:
                reply = self._answer(call, path, auth, malformed=params is None)
                if fate.kind is None:
                    return self._record(call, reply)
        # The call fails, after taking effect or without: its own answer, if any, is lost.
        if fate.kind == "timeout":
            return self._drop(call, fate)
        return self._record(call, fate.reply())

    def _answer(self, call: Call, path: str, auth: str | None, *, malformed: bool) -> Reply:
        """The call's own answer, with its effect on the workspace (under the lock)."""
        if malformed:
            return json_reply({"ok": False, "error": "invalid_json"})
        if call.method == "response_url":
            return self._record_response(path.removeprefix("/response/"), call.params)
        return self._dispatch(call.method, call.params, auth)

    def _record(self, call: Call, reply: Reply) -> Reply:
        with self._lock:
            call.status = reply.status
            call.response = json.loads(reply.body) if reply.body.startswith(b"{") else {}
            self.touch()
        return reply

    def _drop(self, call: Call, fate: Fate) -> Reply:
        self._pause(fate.delay)
        with self._lock:
            call.status = 0
            call.response = {}
        return Reply(0, b"", drop=True)

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _dispatch(self, method: str, params: Json, auth: str | None) -> Reply:
        if not auth or not auth.startswith("Bearer "):
            return json_reply({"ok": False, "error": "not_authed"})
        try:
            self._check_method_rate(auth.removeprefix("Bearer "), method)
        except SlackError as err:
            return json_reply({"ok": False, "error": err.code}, err.status, err.headers)
        if method == "apps.connections.open":
            # Socket Mode: only the app-level token opens a connection.
            if auth.removeprefix("Bearer ") != self.app_token:
                return json_reply({"ok": False, "error": "invalid_auth"})
            if self.socket_url is None:
                return json_reply({"ok": False, "error": "socket_mode_not_enabled"})
            return json_reply({"ok": True, "url": self.socket_url})
        if auth.removeprefix("Bearer ") != self.bot_token:
            return json_reply({"ok": False, "error": "invalid_auth"})
        try:
            return json_reply(self.call(method, params))
        except SlackError as err:
            return json_reply(
                {"ok": False, "error": err.code, **err.extra}, err.status, err.headers
            )
        except (ValueError, TypeError, AttributeError) as err:
            # Arguments of the wrong shape: Slack says invalid_arguments; say why, too.
            return json_reply({"ok": False, "error": "invalid_arguments", "detail": repr(err)})

    def _record_response(self, url_id: str, params: Json) -> Reply:
        uses = self._response_uses.get(url_id)
        if uses is None:
            return Reply(404, b"invalid_url", content_type="text/plain")
        if uses >= RESPONSE_URL_USES:
            return Reply(404, b"used_url", content_type="text/plain")
        self._response_uses[url_id] = uses + 1
        try:
            body = json.loads(params["payload"]) if "payload" in params else params
        except ValueError:
            return Reply(400, b"invalid_payload", content_type="text/plain")
        user, channel = self._response_targets.get(url_id, (None, None))
        self.responses.append(ResponsePost(url_id, body, time.time(), user, channel))
        return Reply(200, b"ok", content_type="text/plain")
