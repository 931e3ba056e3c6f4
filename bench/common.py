"""What both benchmarks share: machine facts, databases, servers, signed requests, output.

Everything listens on 127.0.0.1. Servers are subprocesses that are stopped (SIGTERM,
then SIGKILL) when the benchmark ends, however it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config.load import load_config
from bot.config.model import Config
from bot.store.db import make_engine
from tests.fakeslack import APP_ID, TEAM_DOMAIN, TEAM_ID, FakeSlack
from tests.slackrequests import sign
from tests.workspace import seed

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
E2E_CONFIG = ROOT / "tests" / "configs" / "e2e.yaml"
RUNBOOKS = ROOT / "runbooks"
HOST = "127.0.0.1"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - a test double's secret
DECLARER = "U0OTHER"
DECLARE_TEXT = "declare P1 Checkout answers are wrong {i} service:checkout-assistant"
POSTGRES_ADMIN_URL = os.environ.get(
    "FIREBELL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


# -- machine and output ----------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        return out.stdout.strip()
    return ""


def machine_facts() -> dict[str, Any]:
    """CPU, Python and library versions: what the figures depend on."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "--short", "HEAD") or "unknown",
        # Others edit bot/ while benchmarks run: say when the measured code was not HEAD.
        "bot_uncommitted_changes": bool(_git("status", "--porcelain", "--", "bot")),
        "packages": {
            name: _version(name)
            for name in (
                "slack-bolt", "slack-sdk", "starlette", "uvicorn", "SQLAlchemy", "psycopg",
                "aiohttp", "uvloop", "httptools",
            )
        },
    }


def _ancestors() -> set[int]:
    """This process and its parents (a wrapping shell, `timeout`, `time` ...)."""
    found, pid = set(), os.getpid()
    for _ in range(64):
        found.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
    return found


def other_load() -> list[str]:
    """Command lines of other firebell servers and benchmarks running on this machine.

    Figures taken while another benchmark runs are not worth much: the benchmarks note
    these at start and end, and warn.
    """
    mine = {*_ancestors(), *(p.pid for p in _LIVE)}
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(cmdline.parent.name)
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            if pid in mine or not args or "timeout " in args[:20]:
                continue
            if "firebell serve" in args or " -m bench." in args:
                found.append(f"{pid}: {args[:120]}")
    return found


def _busy_share(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time that is busy over the next `seconds`."""
    def sample() -> tuple[int, int]:
        parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(parts[:8]) - parts[3] - parts[4], sum(parts[:8])

    with contextlib.suppress(OSError, ValueError, IndexError):
        busy0, total0 = sample()
        time.sleep(seconds)
        busy1, total1 = sample()
        return (busy1 - busy0) / max(total1 - total0, 1)
    return 0.0


def wait_quiet(limit: float, *, busy_below: float = 0.25) -> dict[str, Any]:
    """Wait up to `limit` s until no other firebell server runs and the machine is idle.

    Returns how long it waited and whether it got quiet (the figures say so).
    """
    started = time.monotonic()
    quiet = False
    while True:
        others = [o for o in other_load() if "firebell serve" in o]
        if not others and _busy_share() < busy_below:
            quiet = True
            break
        if time.monotonic() - started >= limit:
            break
        time.sleep(2.0)
    return {"waited_s": round(time.monotonic() - started, 1), "quiet": quiet}


def warn_other_load(when: str) -> list[str]:
    others = other_load()
    if others:
        print(f"warning ({when}): other firebell servers or benchmarks are running; "
              "figures will be off:\n  " + "\n  ".join(others), flush=True)
    return others


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned columns after the first."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# -- config and fake Slack ---------------------------------------------------------------


def load_bench_config(path: Path = E2E_CONFIG) -> Config:
    return load_config(path)


_PAGING = re.compile(r"Paging for INC-(\d+)")
_PAGED_DM = re.compile(r"You are paged for \*INC-(\d+)\*")
_MENTION = re.compile(r"<@(U[A-Z0-9]+)>")


@dataclass
class PageArrivals:
    """When the pages of one incident reached the fake (perf_counter seconds)."""

    paging_post: float | None = None
    mentioned: set[str] = field(default_factory=set)
    dms: dict[str, float] = field(default_factory=dict)

    def complete(self) -> bool:
        """The channel post is there and every user it mentions has had a DM."""
        return self.paging_post is not None and self.mentioned <= set(self.dms)

    def last(self) -> float:
        assert self.paging_post is not None
        return max([self.paging_post, *(self.dms[u] for u in self.mentioned)])

    def first(self) -> float:
        times = [*self.dms.values(), *([self.paging_post] if self.paging_post else [])]
        return min(times)


class BenchFake(FakeSlack):
    """The test suite's fake Slack, noting when each page arrives and counting calls.

    A message "arrives" when the fake stores it: after any injected latency, at the
    moment the bot's call is answered.
    """

    def __init__(self) -> None:
        self.pages: dict[int, PageArrivals] = {}
        self.call_count = 0
        self._arrived = threading.Condition()
        super().__init__()

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        result = super().call(method, params)
        self.call_count += 1
        if method == "chat.postMessage":
            self._note_post(str(result["channel"]), str(params.get("text") or ""))
        return result

    def _note_post(self, channel_id: str, message: str) -> None:
        now = time.perf_counter()
        channel = self.channels.get(channel_id)
        if channel is not None and channel.is_im and channel.user:
            match = _PAGED_DM.search(message)
            if match is None:
                return
            with self._arrived:
                arrivals = self.pages.setdefault(int(match.group(1)), PageArrivals())
                arrivals.dms.setdefault(channel.user, now)
                self._arrived.notify_all()
            return
        match = _PAGING.search(message)
        if match is not None:
            with self._arrived:
                arrivals = self.pages.setdefault(int(match.group(1)), PageArrivals())
                if arrivals.paging_post is None:
                    arrivals.paging_post = now
                    arrivals.mentioned = set(_MENTION.findall(message))
                self._arrived.notify_all()

    def wait_for_pages(self, number: int, timeout: float) -> PageArrivals | None:
        """Block until INC-<number>'s pages are all in; None on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                arrivals = self.pages.get(number)
                if arrivals is not None and arrivals.complete():
                    return arrivals
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)


def start_fake(config: Config) -> BenchFake:
    """A started fake Slack that knows the people (and the declarer), channels and user
    groups of `config`."""
    fake = BenchFake().start()
    seed(fake, config, also=(DECLARER,))
    assert isinstance(fake, BenchFake)
    return fake


# -- databases ---------------------------------------------------------------------------


@contextlib.contextmanager
def temp_database(kind: str, workdir: Path) -> Iterator[str]:
    """A new, empty database (`sqlite` file in `workdir`, or `postgresql`), dropped after."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(f"{path}{suffix}").unlink()
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(
                hide_password=False
            )
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def verify_declarations(database_url: str, trigger_ids: Sequence[str]) -> dict[str, Any]:
    """Check that every request declared exactly one incident, numbered 1..n without gaps.

    firebell keys a declaration by its Slack request (`cmd:<trigger_id>`), so the set of
    request keys in the table must be exactly the set of trigger_ids sent.
    """
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT number, request_key FROM incident")).all()
            outbox = connection.execute(
                text(
                    "SELECT count(*), sum(CASE WHEN done THEN 1 ELSE 0 END) FROM outboxmessage"
                )
            ).one()
    finally:
        engine.dispose()
    numbers = sorted(int(r[0]) for r in rows)
    keys = [str(r[1]) for r in rows]
    expected = {f"cmd:{t}" for t in trigger_ids}
    checks = {
        "incidents_equal_requests": len(rows) == len(trigger_ids),
        "numbers_unique": len(set(numbers)) == len(numbers),
        "numbers_gapless": numbers == list(range(1, len(numbers) + 1)),
        "one_incident_per_request": len(set(keys)) == len(keys) and set(keys) == expected,
    }
    return {
        "ok": all(checks.values()),
        "requests": len(trigger_ids),
        "incidents": len(rows),
        "min_number": numbers[0] if numbers else None,
        "max_number": numbers[-1] if numbers else None,
        "checks": checks,
        "outbox_rows": int(outbox[0] or 0),
        "outbox_delivered": int(outbox[1] or 0),
    }


def verify_floor(path: str, trigger_ids: Sequence[str]) -> dict[str, Any]:
    """A `floor-*` what-if's check: one row per request in its SQLite file, no more."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        keys = [str(k) for (k,) in connection.execute("SELECT request_key FROM declared")]
    expected = {f"cmd:{t}" for t in trigger_ids}
    checks = {
        "rows_equal_requests": len(keys) == len(trigger_ids),
        "one_row_per_request": len(set(keys)) == len(keys) and set(keys) == expected,
    }
    return {"ok": all(checks.values()), "requests": len(trigger_ids), "rows": len(keys),
            "checks": checks}


# -- signed requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """One pre-built slash command: raw HTTP/1.1 bytes, plus its parts."""

    trigger_id: str
    body: bytes
    headers: dict[str, str]
    raw: bytes


def declare_request(
    i: int, *, host: str, port: int, secret: str = SIGNING_SECRET, user: str = DECLARER
) -> SignedRequest:
    """`/incident declare P1 ...` as Slack sends it, with a unique trigger_id, signed now."""
    ts = str(int(time.time()))
    trigger_id = f"{i}.{ts}.{secrets.token_hex(16)}"
    fields = {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": "C0GENERAL",
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/incident",
        "text": DECLARE_TEXT.format(i=i),
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": f"https://hooks.slack.com/commands/{TEAM_ID}/{i}/{secrets.token_hex(12)}",
        "trigger_id": trigger_id,
    }
    body = urlencode(fields).encode()
    headers = {
        "Host": f"{host}:{port}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(body)),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(secret, ts, body),
    }
    head = "POST /slack/events HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return SignedRequest(trigger_id, body, headers, head.encode() + b"\r\n" + body)


# -- servers -----------------------------------------------------------------------------


_LIVE: set[subprocess.Popen[bytes]] = set()


def _stop_all() -> None:
    for proc in list(_LIVE):
        _terminate(proc)


def _terminate(proc: subprocess.Popen[bytes], grace: float = 15.0) -> dict[str, Any]:
    """SIGTERM, then SIGKILL after `grace` seconds; say how the process ended."""
    started = time.monotonic()
    killed = False
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            killed = True
            proc.kill()
            proc.wait(timeout=5)
    _LIVE.discard(proc)
    return {
        "exit_code": proc.returncode,
        "needed_sigkill": killed,
        "stop_seconds": round(time.monotonic() - started, 2),
    }


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def install_cleanup() -> None:
    """Stop every server this process started when it exits, also on SIGTERM."""
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def processes_cpu(name: str) -> dict[int, float]:
    """CPU seconds used so far by each live process called `name` (e.g. `postgres`)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            raw = stat.read_text()
            if raw[raw.index("(") + 1 : raw.rindex(")")] == name:
                fields = raw.rsplit(")", 1)[1].split()
                found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def cpu_used_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two `processes_cpu` snapshots by the processes still alive
    (a process that ended in between is not counted)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def firebell_command() -> list[str]:
    """The installed `firebell` console script next to this interpreter."""
    script = Path(sys.executable).parent / "firebell"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def bare_command() -> list[str]:
    return [sys.executable, "-m", "bench.bare_bolt_app"]


def healthy(port: int) -> bool:
    """True when the server on `port` of HOST answers GET /healthz with 200."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class Server:
    """A server subprocess on 127.0.0.1:<port>, logging to a file, stopped on exit."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path
    ) -> None:
        self.name, self.argv, self.port, self.workdir = name, argv, port, workdir
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.log_path = workdir / f"{name}-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    def start(self, timeout: float = 60.0) -> Server:
        """Start and wait until GET /healthz answers 200."""
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        _LIVE.add(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if healthy(self.port):
                self.start_seconds = round(time.monotonic() - started, 2)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout}s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the process has used so far."""
        user, system = self.cpu_split()
        return user + system

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds the process has used so far."""
        if self.proc is None:
            return 0.0, 0.0
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0, 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / ticks, int(fields[12]) / ticks

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> dict[str, Any] | None:
        """Stop the server (SIGTERM, then SIGKILL); how it ended, if it was running."""
        if self.proc is None:
            return None
        ended = _terminate(self.proc)
        self.proc = None
        return ended


def server_env(fake: FakeSlack, port: int, database_url: str | None = None) -> dict[str, str]:
    """The environment `firebell serve` (and the bare app) read."""
    env = {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "FIREBELL_CONFIG": str(E2E_CONFIG),
        "FIREBELL_RUNBOOKS": str(RUNBOOKS),
        "FIREBELL_HOST": HOST,
        "FIREBELL_PORT": str(port),
    }
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A scratch folder (server logs, SQLite files); servers run with it as cwd."""
    with tempfile.TemporaryDirectory(prefix="firebell-bench-") as tmp:
        yield Path(tmp)
