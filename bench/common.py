"""What the benchmarks share: databases, firebell as a process, signed declarations, results."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.sandbox.fake import Channel, FakeSlack
from bot.sandbox.model import Json
from bot.sandbox.signed import sign
from bot.store.db import make_engine
from tests.serving import serve_env, start_serve

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
E2E_CONFIG = ROOT / "tests" / "configs" / "e2e.yaml"
SECRET = "bench-signing-secret-0123456789"  # noqa: S105 - the fake workspace's, not a secret
DECLARER = "U0BENCH"
POSTGRES = os.environ.get(
    "FIREBELL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


class TimedFake(FakeSlack):
    """The test suite's fake Slack, noting when each DM arrives by the outbox row that
    sent it (named in the message metadata), with IMs indexed by user: the stock fake
    scans every channel for one, which with thousands costs more CPU than firebell."""

    def reset(self) -> None:
        """The stock reset, plus no DMs seen and no IMs indexed."""
        with self._lock:
            super().reset()
            self.dm_at: dict[int, list[float]] = {}
            self._ims: dict[str, Channel] = {}

    def dms(self) -> dict[int, list[float]]:
        """A snapshot of `dm_at` (firebell may still be delivering)."""
        with self._lock:
            return {row: list(times) for row, times in self.dm_at.items()}

    def _im_with(self, user_id: str) -> Channel:
        if user_id not in self._ims:
            self._ims[user_id] = self._new_im(user_id)
        return self._ims[user_id]

    def _conversations_open(self, params: Json) -> Json:
        user = str(params.get("users") or "")
        if params.get("channel") or params.get("return_im") or user not in self.users:
            return super()._conversations_open(params)  # not one known user: the stock path
        opened = {"no_op": True, "already_open": True} if user in self._ims else {}
        return {"channel": {"id": self._im_with(user).id}, **opened}

    def _chat_post_message(self, params: Json) -> Json:
        result = super()._chat_post_message(params)
        message = self.messages[-1]
        if self.channels[message.channel].is_im and message.metadata:
            row = int(message.metadata["event_payload"].get("outbox_row", 0))
            self.dm_at.setdefault(row, []).append(time.time())
        return result


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A new empty database (`sqlite` in `folder`, or `postgresql`), dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}.db"
        return
    admin = make_engine(POSTGRES).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def serving(
    fake: FakeSlack,
    database_url: str,
    folder: Path,
    config: Path = E2E_CONFIG,
    runbooks: Path = ROOT / "runbooks",
    **more: str,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`firebell serve` on `database_url` against `fake`, logging to `folder`, with the
    environment variables `more` (e.g. FIREBELL_WEBHOOK_TOKEN); stopped after."""
    env = serve_env(
        fake,
        signing_secret=SECRET,
        database_url=database_url,
        config=config,
        runbooks=runbooks,
        LOG_LEVEL="WARNING",
        **more,
    )
    with open(folder / f"serve-{env['FIREBELL_PORT']}.log", "w") as log:
        process, url = start_serve(env, cwd=folder, output=log, timeout=60)
        try:
            yield process, url
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def declare_form(i: int, trigger_id: str, *, text: str) -> tuple[bytes, dict[str, str]]:
    """`/incident declare ...` as Slack sends it: the form body and its signed headers."""
    body = urlencode(
        {
            "team_id": "T0BENCH",
            "channel_id": "C0GENERAL",
            "user_id": DECLARER,
            "command": "/incident",
            "text": text,
            "trigger_id": trigger_id,
            "response_url": f"https://hooks.slack.com/commands/T0BENCH/{i}/{secrets.token_hex(8)}",
        }
    ).encode()
    ts = str(int(time.time()))
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SECRET, ts, body),
    }


def wait_until(done: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Poll `done()` until it is true (True) or `timeout` seconds pass (False)."""
    limit = time.monotonic() + timeout
    while not done():
        if time.monotonic() > limit:
            return False
        time.sleep(interval)
    return True


def rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def spread(values: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of `values`, rounded (empty: nothing was measured)."""
    if not values:
        return {}
    return {q: round(quantile(values, v), 1) for q, v in (("p50", 0.5), ("p99", 0.99), ("max", 1))}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` with the machine and commit; return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    facts = {"commit": commit, "python": platform.python_version(), "cpus": os.cpu_count()}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": facts, **data}, indent=2, default=str))
    return path
