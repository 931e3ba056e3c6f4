"""Escalation at scale: deadlines that all come due within a minute, fired exactly once.

For each run (SQLite with one `firebell serve`; PostgreSQL with one; PostgreSQL with
three on one database; PostgreSQL with three, one SIGKILLed a third into the window
and restarted 5 s later) the benchmark:

1. starts a fresh fake Slack (tests/fakeslack.py, in this process) and a fresh
   database (`bench_<random>`, dropped afterwards), migrated to head;
2. declares `--incidents` P1 incidents with the real use case
   (`bot.incidents.declare.declare`, 200 per transaction, from this process) under
   bench/escalation_config.yaml: each incident is in an area of its own, so it pages
   one person at declaration and one other person at its single escalation step. People
   are unique per incident because firebell paces messages to a channel (a DM
   included) at about one a second, as Slack requires: 10,000 pages to one person
   would be a three-hour queue, correctly, and measure the pacer instead;
3. starts the `firebell serve` processes and waits until the declaration-time outbox
   (channel, invite, main message, pin, one page each) is delivered;
4. moves the `escalate` rows' `due_at` (and the incidents' response deadlines), which
   declaring set an hour ahead, to an even spread over
   [now + `--lead`, now + `--lead` + `--spread`], so the processes find them on their
   next 5 s poll and the deadlines start only once all is quiet;
5. waits for the window to pass, every deadline to fire, and the outbox to drain (in
   the kill run: past the 60 s outbox lease the killed process held), then reads peak
   RSS (VmHWM) of every process, stops them, and reads the database and the fake.

Per deadline it reports: whether it fired exactly once (`fired_at` set, one `escalated`
timeline entry, one audit record, one page outbox row, one "unacknowledged" channel
post); lateness = `created_at` of the step's outbox rows minus `due_at`
(`created_at` is the database clock read at the start of the claiming transaction, the
same value as `fired_at`; the commit follows a few milliseconds later); how many
escalation DMs reached the fake, and when (delivered lateness). The kill run also
reports how long the deadlines due while the replica was down took.

Run: `python -m bench.escalation [--quick] [--incidents N] [--spread S] [--runs ...]`.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col

from bench.common import (
    RESULTS_DIR,
    healthy,
    machine_facts,
    table,
    temp_database,
    workdir,
    write_results,
)
from bot.config.load import load_config
from bot.config.model import Config
from bot.incidents.declare import Declaration, declare
from bot.store.db import Store, make_engine, normalise_url
from bot.store.migrate import upgrade
from bot.store.tables import AuditRecord, Deadline, Incident, OutboxMessage, TimelineEntry
from tests.fakeslack import FakeSlack
from tests.fakeslack_model import Channel, Json, Message, SlackError
from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("escalation_config.yaml")
RUNBOOKS = ROOT / "runbooks"
HOST = "127.0.0.1"
SIGNING_SECRET = "bench-escalation-secret-0123456789"  # noqa: S105 - a test double's secret
DECLARER = "U01PL1"
LEASE_S = 60.0  # bot.web.Tuning.lease, what `firebell serve` uses
DEADLINE_POLL_S = 5.0  # bot.web.Tuning.deadline_poll
TARGET_P99_MS = 100.0
TARGET_AFTER_RESTART_S = 10.0
_PAGED = re.compile(r"You are paged for \*INC-(\d+)\*")
_UNACKED = re.compile(r"(INC-\d+) unacknowledged for")
_SKIPPED = re.compile(r"trigger: (\w+)\[.*(skipped: maximum number of running instances)")


# -- the fake Slack ----------------------------------------------------------------------


class EscalationFake(FakeSlack):
    """The test suite's fake Slack, indexed for tens of thousands of channels and
    messages, noting when each escalation DM arrives (wall clock).

    The stock fake finds a message, an IM or a channel name by scanning every one it
    holds; with 10,000 incidents that costs more CPU than firebell itself, on the same
    two cores. The indexes change nothing the bot can observe.
    """

    escalation_dms: dict[int, list[float]]
    declaration_dms: int
    _by_ts: dict[tuple[str, str], Message]
    _ims: dict[str, Channel]
    _names: set[str]

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self.escalation_dms = {}
            self.declaration_dms = 0
            self._by_ts = {}
            self._ims = {c.user: c for c in self.channels.values() if c.is_im and c.user}
            self._names = {c.name for c in self.channels.values()}

    def forget_calls(self) -> None:
        """Drop the call log (it only grows; nothing here reads it)."""
        with self._lock:
            self.calls.clear()

    def _message(self, channel: Channel, ts: Any) -> Message:
        message = self._by_ts.get((channel.id, str(ts)))
        if message is None or message.deleted:
            raise SlackError("message_not_found")
        return message

    def _im_with(self, user_id: str) -> Channel:
        # The fake looks for an IM by scanning every channel; 20,000 of them here.
        im = self._ims.get(user_id)
        if im is None:
            im = self._ims[user_id] = self._new_im(user_id)
        return im

    def _conversations_open(self, params: Json) -> Json:
        users = {u.strip() for u in str(params.get("users") or "").split(",") if u.strip()}
        if params.get("channel") or params.get("return_im") or len(users) != 1:
            return super()._conversations_open(params)
        user = users.pop()
        if user not in self.users:
            raise SlackError("user_not_found")
        existed = user in self._ims
        im = self._im_with(user)
        extra: Json = {"no_op": True, "already_open": True} if existed else {}
        return {"channel": {"id": im.id}, **extra}

    def _conversations_create(self, params: Json) -> Json:
        if str(params.get("name") or "") in self._names:
            raise SlackError("name_taken")
        # The stock method scans the channels for the name again; keep that scan short.
        everything, self.channels = self.channels, {}
        try:
            result = super()._conversations_create(params)
        finally:
            self.channels = {**everything, **self.channels}
        self._names.add(str(result["channel"]["name"]))
        return result

    def _chat_post_message(self, params: Json) -> Json:
        result = super()._chat_post_message(params)
        message = self.messages[-1]
        self._by_ts[(message.channel, message.ts)] = message
        channel = self.channels[message.channel]
        match = _PAGED.search(message.text)
        if channel.is_im and match is not None:
            if "unacknowledged for" in message.text:
                self.escalation_dms.setdefault(int(match.group(1)), []).append(time.time())
            else:
                self.declaration_dms += 1
        return result


# -- config ------------------------------------------------------------------------------


def responsible(i: int) -> str:
    return f"UR{i:05d}"


def accountable(i: int) -> str:
    return f"UA{i:05d}"


def area(i: int) -> str:
    return f"a{i:05d}"


def write_config(path: Path, incidents: int) -> Path:
    """The template plus one area (own responsible and accountable person) per incident."""
    data = yaml.safe_load(TEMPLATE.read_text())
    data.pop("teams", None)
    data["areas"] = {
        area(i): {"name": f"Area {i}", "responsible": responsible(i), "accountable": accountable(i)}
        for i in range(incidents)
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# -- processes ---------------------------------------------------------------------------

_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _kill_leftovers() -> None:
    for proc in list(_LIVE.values()):
        if proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
    _LIVE.clear()


atexit.register(_kill_leftovers)


def firebell_command() -> list[str]:
    """`firebell serve` from this venv."""
    script = Path(sys.executable).parent / "firebell"
    return [str(script), "serve"] if script.exists() else [sys.executable, "-m", "bot", "serve"]


@dataclass
class Replica:
    """One `firebell serve` subprocess on 127.0.0.1."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    spawned_at: float = 0.0
    healthy_at: float = 0.0
    peak_rss_mib: float | None = None
    cpu_s: float | None = None
    instance: str | None = None
    fate: str = "running"

    def start(self, timeout: float = 60.0) -> Replica:
        self.port = free_port()
        env = {**self.env, "FIREBELL_PORT": str(self.port)}
        with open(self.log_path, "ab") as log:
            self.spawned_at = time.time()
            self.proc = subprocess.Popen(
                firebell_command(),
                env=env,
                cwd=self.log_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _LIVE[self.proc.pid] = self.proc
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if healthy(self.port):
                self.healthy_at = time.time()
                self.instance = self._instance()
                return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout}s")

    def _instance(self) -> str | None:
        for _ in range(40):
            found = re.findall(r"firebell is up \(instance ([0-9a-f]+)\)", self.log_text())
            if found:
                return str(found[-1])
            time.sleep(0.05)
        return None

    @property
    def owner(self) -> str | None:
        """What this process writes to `Deadline.fired_by` and outbox leases."""
        return f"firebell-{self.instance}" if self.instance else None

    def cpu_now(self) -> float:
        """User + system CPU-seconds so far (the last measured value once it is gone)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.cpu_s or 0.0
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return self.cpu_s or 0.0

    def measure(self) -> None:
        """Peak RSS (VmHWM) and CPU seconds so far; call before the process ends."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_mib = round(int(line.split()[1]) / 1024, 1)
        self.cpu_s = round(self.cpu_now(), 1)

    def kill(self) -> float:
        """SIGKILL now; return when (wall clock)."""
        assert self.proc is not None
        self.measure()
        self.proc.send_signal(signal.SIGKILL)
        at = time.time()
        self.proc.wait(timeout=10)
        _LIVE.pop(self.proc.pid, None)
        self.fate = "SIGKILLed"
        return at

    def stop(self) -> None:
        """Measure, then SIGTERM (clean shutdown hands leases back), SIGKILL after 20 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.measure()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
                self.fate = "stopped"
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                self.fate = "SIGKILLed after SIGTERM timeout"
        _LIVE.pop(self.proc.pid, None)

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def warnings(self) -> collections.Counter[str]:
        """WARNING lines of the log, counted by message (numbers and ids blanked)."""
        found: collections.Counter[str] = collections.Counter()
        for line in self.log_text().splitlines():
            if " WARNING " not in line:
                continue
            message = line.split(" WARNING ", 1)[1].strip()
            skipped = _SKIPPED.search(line)
            if skipped:
                message = f"apscheduler: {skipped[1]} job DeadlineClock.tick {skipped[2]}"
            found[re.sub(r"\b[0-9a-f]{6,}\b|\d+", "#", message)[:120]] += 1
        return found

    def errors(self) -> list[str]:
        """ERROR/Traceback lines of the log (first few)."""
        return [
            line for line in self.log_text().splitlines()
            if " ERROR " in line or line.startswith("Traceback")
        ][:20]


# -- database set-up ---------------------------------------------------------------------


def declare_incidents(store: Store, config: Config, count: int, batch: int = 200) -> None:
    """Declare `count` P1 incidents, `batch` per transaction, with the real use case."""

    def declare_batch(session: Session, start: int, stop: int) -> None:
        for i in range(start, stop):
            declare(
                session,
                config,
                Declaration(
                    title=f"Escalation bench {i}",
                    severity="P1",
                    declared_by=DECLARER,
                    area=area(i),
                ),
            )

    for start in range(0, count, batch):
        store.call(declare_batch, start, min(start + batch, count))


def spread_deadlines(store: Store, first_due: datetime, spread: float) -> int:
    """Move the pending `escalate` rows (in id order) evenly over [first_due, +spread)."""

    def move(session: Session) -> int:
        rows = session.execute(
            select(col(Deadline.id), col(Deadline.incident_id))
            .where(
                col(Deadline.kind) == "escalate",
                col(Deadline.fired_at).is_(None),
                col(Deadline.cancelled).is_(False),
            )
            .order_by(col(Deadline.id))
        ).all()
        step = spread / max(len(rows), 1)
        due = [first_due + timedelta(seconds=i * step) for i in range(len(rows))]
        if rows:
            session.execute(
                update(Deadline),
                [{"id": r[0], "due_at": d} for r, d in zip(rows, due, strict=True)],
            )
            session.execute(
                update(Incident),
                [{"id": r[1], "response_deadline": d} for r, d in zip(rows, due, strict=True)],
            )
        return len(rows)

    return store.call(move)


def other_deadlines(engine: Engine) -> dict[str, int]:
    """Deadline rows by kind: the benchmark expects `escalate` rows only."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(Deadline.kind), func.count()).group_by(col(Deadline.kind))
        ).all()
    return {str(kind): int(n) for kind, n in rows}


def pending_outbox(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.done).is_(False))
            ).scalar_one()
        )


def unfired(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Deadline)
                .where(
                    col(Deadline.kind) == "escalate",
                    col(Deadline.fired_at).is_(None),
                    col(Deadline.cancelled).is_(False),
                )
            ).scalar_one()
        )


def wait_until(check: Any, timeout: float, interval: float = 1.0) -> tuple[bool, float]:
    """Poll `check()` (truthy: done) up to `timeout` s; return (done, seconds waited)."""
    start = time.monotonic()
    while True:
        if check():
            return True, time.monotonic() - start
        if time.monotonic() - start >= timeout:
            return False, time.monotonic() - start
        time.sleep(interval)


def cpu_busy_s() -> float:
    """CPU-seconds the whole machine has been busy (all cores), from /proc/stat."""
    with contextlib.suppress(OSError, ValueError):
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def wait_quiet(limit: float, threshold: float = 1.0) -> float:
    """Wait (up to `limit` s) for the 1-minute load average to drop below `threshold`."""
    start = time.monotonic()
    while time.monotonic() - start < limit and os.getloadavg()[0] >= threshold:
        time.sleep(5)
    return time.monotonic() - start


def code_version() -> dict[str, Any]:
    """The commit the replicas run, and which files of bot/ differ from it."""
    out: dict[str, Any] = {"root": str(ROOT)}
    for key, argv in (
        ("commit", ["git", "rev-parse", "--short", "HEAD"]),
        ("dirty", ["git", "status", "--porcelain", "--", "bot", "migrations"]),
    ):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(
                argv, cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
            )
            out[key] = done.stdout.strip() if key == "commit" else done.stdout.split("\n")[:-1]
    return out


def reader(url: str) -> Engine:
    """An engine for measuring: plain transactions (no BEGIN IMMEDIATE on SQLite)."""
    return create_engine(normalise_url(url), poolclass=NullPool)


# -- results -----------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile (q in [0, 1]) of `values`."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def summary_ms(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max of seconds, in milliseconds."""
    out: dict[str, float | None] = {}
    for label, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        v = quantile(values, q)
        out[label] = None if v is None else round(v * 1000, 1)
    return out


@dataclass
class Outage:
    """The kill run's timeline (wall clock, seconds since the epoch)."""

    killed_at: float
    restarted_at: float
    healthy_at: float
    victim_owner: str | None


@dataclass
class RunResult:
    name: str
    database: str
    processes: int
    kill: bool
    deadlines: int = 0
    fired_once: int = 0
    problems: list[str] = field(default_factory=list)
    pages_per_incident_min: int | None = None
    pages_per_incident_max: int | None = None
    pages_histogram: dict[str, int] = field(default_factory=dict)
    lateness_ms: dict[str, float | None] = field(default_factory=dict)
    delivered_lateness_ms: dict[str, float | None] = field(default_factory=dict)
    max_lateness_by_due_second_ms: list[float] = field(default_factory=list)
    fired_by: dict[str, int] = field(default_factory=dict)
    replicas: list[dict[str, Any]] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    outage: dict[str, Any] | None = None
    machine_load: dict[str, float] = field(default_factory=dict)
    code: dict[str, Any] = field(default_factory=dict)
    errors_in_logs: dict[str, list[str]] = field(default_factory=dict)
    warnings_in_logs: dict[str, int] = field(default_factory=dict)
    targets: dict[str, bool] = field(default_factory=dict)


@dataclass
class Snapshot:
    """What the database says after a run."""

    deadlines: list[tuple[int, datetime, datetime | None, str | None]]
    escalated: collections.Counter[int]
    audited: collections.Counter[int]
    page_rows: dict[int, list[datetime]]
    unacked_posts: collections.Counter[int]
    numbers: dict[int, int]
    outbox_rows: list[tuple[bool, bool, int, str | None]]


def snapshot(engine: Engine) -> Snapshot:
    """Read the escalation rows, their timeline, audit and outbox rows."""
    with Session(engine) as session:
        deadlines = [
            (int(i), due, fired, by)
            for i, due, fired, by in session.execute(
                select(
                    col(Deadline.incident_id),
                    col(Deadline.due_at),
                    col(Deadline.fired_at),
                    col(Deadline.fired_by),
                ).where(col(Deadline.kind) == "escalate")
            ).all()
        ]
        escalated = collections.Counter(
            int(i)
            for i in session.execute(
                select(col(TimelineEntry.incident_id)).where(col(TimelineEntry.kind) == "escalated")
            ).scalars()
        )
        audited = collections.Counter(
            int(i or 0)
            for i in session.execute(
                select(col(AuditRecord.incident_id)).where(
                    col(AuditRecord.action) == "incident.escalated"
                )
            ).scalars()
        )
        rows = session.execute(
            select(
                col(OutboxMessage.incident_id),
                col(OutboxMessage.kind),
                col(OutboxMessage.payload),
                col(OutboxMessage.created_at),
            ).where(col(OutboxMessage.kind).in_(["page", "channel_post"]))
        ).all()
        numbers = {
            int(i): int(n)
            for i, n in session.execute(select(col(Incident.id), col(Incident.number))).all()
        }
        outbox_rows = [
            (bool(done), bool(failed), int(attempts), owner)
            for done, failed, attempts, owner in session.execute(
                select(
                    col(OutboxMessage.done),
                    col(OutboxMessage.failed),
                    col(OutboxMessage.attempts),
                    col(OutboxMessage.lease_owner),
                )
            ).all()
        ]
    page_rows: dict[int, list[datetime]] = collections.defaultdict(list)
    unacked_posts: collections.Counter[int] = collections.Counter()
    for incident_id, kind, payload, created_at in rows:
        if kind == "page" and payload.get("reason") != "declared":
            page_rows[int(incident_id)].append(created_at)
        elif kind == "channel_post" and _UNACKED.search(str(payload.get("text", ""))):
            unacked_posts[int(incident_id)] += 1
    return Snapshot(
        deadlines, escalated, audited, page_rows, unacked_posts, numbers, outbox_rows
    )


def collect(
    engine: Engine, fake: EscalationFake, result: RunResult, outage: Outage | None
) -> None:
    """Read the database and the fake: exactly-once, lateness, pages, kill figures."""
    db = snapshot(engine)
    result.deadlines = len(db.deadlines)
    lateness: list[float] = []
    delivered: list[float] = []
    fired_by: collections.Counter[str] = collections.Counter()
    arrivals = {n: list(times) for n, times in fake.escalation_dms.items()}
    pages = [len(arrivals.get(db.numbers[d[0]], [])) for d in db.deadlines]
    first_due = min((d[1].timestamp() for d in db.deadlines), default=0.0)
    by_second: dict[int, float] = {}
    for iid, due_at, fired_at, owner in db.deadlines:
        checks = {
            "fired": fired_at is not None,
            "one escalated entry": db.escalated[iid] == 1,
            "one audit record": db.audited[iid] == 1,
            "one page row": len(db.page_rows[iid]) == 1,
            "one channel post": db.unacked_posts[iid] == 1,
        }
        if all(checks.values()):
            result.fired_once += 1
        elif len(result.problems) < 20:
            bad = ", ".join(k for k, ok in checks.items() if not ok)
            result.problems.append(f"INC-{db.numbers[iid]}: not {bad}")
        fired_by[str(owner)] += 1
        if db.page_rows[iid]:
            lateness.append((min(db.page_rows[iid]) - due_at).total_seconds())
            second = int(due_at.timestamp() - first_due)
            by_second[second] = max(by_second.get(second, 0.0), lateness[-1])
        got = arrivals.get(db.numbers[iid])
        if got:
            delivered.append(min(got) - due_at.timestamp())
    result.lateness_ms = summary_ms(lateness)
    result.delivered_lateness_ms = summary_ms(delivered)
    result.max_lateness_by_due_second_ms = [
        round(by_second.get(i, 0.0) * 1000, 1) for i in range(max(by_second, default=-1) + 1)
    ]
    result.fired_by = dict(fired_by)
    result.pages_per_incident_min = min(pages) if pages else None
    result.pages_per_incident_max = max(pages) if pages else None
    result.pages_histogram = {str(k): v for k, v in sorted(collections.Counter(pages).items())}
    result.outbox = {
        "rows": len(db.outbox_rows),
        "undelivered": sum(1 for r in db.outbox_rows if not r[0]),
        "failed": sum(1 for r in db.outbox_rows if r[1]),
        "claimed_more_than_once": sum(1 for r in db.outbox_rows if r[2] > 1),
        "escalation_dms_at_fake": sum(len(v) for v in arrivals.values()),
        "declaration_dms_at_fake": fake.declaration_dms,
    }
    if outage is not None:
        result.outage = outage_figures(db, outage, fired_by)


def outage_figures(
    db: Snapshot, outage: Outage, fired_by: collections.Counter[str]
) -> dict[str, Any]:
    """How the deadlines around the kill fared.

    Affected: not handled yet when the process died and due before its successor was
    up (due while it was down, or claimed by it and rolled back by the kill). The target
    is met when every deadline fired at most 10 s after max(due_at, restart).
    """
    affected: list[float] = []
    after_restart: list[float] = []
    for _, due_at, fired_at, _ in db.deadlines:
        if fired_at is None:
            after_restart.append(float("inf"))
            continue
        due, fired = due_at.timestamp(), fired_at.timestamp()
        after_restart.append(fired - max(due, outage.restarted_at))
        if fired >= outage.killed_at and due <= outage.healthy_at:
            affected.append(fired - due)
    worst = max(after_restart) if after_restart else None
    victim = outage.victim_owner
    return {
        "killed_at": iso(outage.killed_at),
        "restarted_at": iso(outage.restarted_at),
        "restart_healthy_after_s": round(outage.healthy_at - outage.restarted_at, 2),
        "victim": victim,
        "fired_by_victim_before_kill": fired_by.get(str(victim), 0),
        "deadlines_due_while_down_or_in_flight": len(affected),
        "their_lateness_ms": summary_ms(affected),
        "worst_fired_after_max_due_restart_s": None if worst is None else round(worst, 3),
        "handled_within_10s_of_restart": worst is not None and worst <= TARGET_AFTER_RESTART_S,
        "outbox_rows_still_leased_by_victim": sum(
            1 for r in db.outbox_rows if r[3] == victim and not r[0]
        ),
    }


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


# -- one run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    name: str
    database: str
    processes: int
    kill: bool


RUNS = (
    RunSpec("sqlite-1", "sqlite", 1, kill=False),
    RunSpec("pg-1", "postgresql", 1, kill=False),
    RunSpec("pg-3", "postgresql", 3, kill=False),
    RunSpec("pg-3-kill", "postgresql", 3, kill=True),
)


@dataclass(frozen=True)
class Options:
    incidents: int
    spread: float
    lead: float
    kill_at: float
    restart_after: float
    predrain_timeout: float
    drain_timeout: float
    wait_for_leases: bool
    profile: bool
    wait_quiet: float


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def running_fake(config: Config, incidents: int) -> Iterator[EscalationFake]:
    fake = EscalationFake()
    fake.start()
    for i in range(incidents):
        fake.add_user(responsible(i), f"resp-{i}")
        fake.add_user(accountable(i), f"acct-{i}")
    try:
        yield fake
    finally:
        fake.stop()


def profile_replicas(
    replicas: Sequence[Replica], seconds: float, name: str
) -> list[subprocess.Popen[bytes]]:
    """Start py-spy on each replica for `seconds` (raw collapsed stacks, with idle)."""
    outputs = []
    for replica in replicas:
        assert replica.proc is not None
        out = ROOT / "bench" / "results" / f"escalation-{name}-{replica.name}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                str(replica.proc.pid), "--duration", str(int(seconds)), "--rate", "200",
                "--format", "raw", "--idle", "--nonblocking", "--output", str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _LIVE[proc.pid] = proc
        outputs.append(proc)
    return outputs


class Run:
    """One run: fake, database, declarations, replicas, the window, the figures."""

    def __init__(self, spec: RunSpec, opts: Options, scratch: Path) -> None:
        self.spec, self.opts, self.scratch = spec, opts, scratch
        self.result = RunResult(spec.name, spec.database, spec.processes, spec.kill)
        self.replicas: list[Replica] = []
        self.outage: Outage | None = None
        self.env: dict[str, str] = {}
        self.end = 0.0
        self.cpu_at_start = (0.0, 0.0)
        self.profilers: list[subprocess.Popen[bytes]] = []

    def note(self, message: str) -> None:
        log(f"{self.spec.name}: {message}")

    def execute(self) -> RunResult:
        config_path = write_config(self.scratch / f"{self.spec.name}.yaml", self.opts.incidents)
        config = load_config(config_path)
        with running_fake(config, self.opts.incidents) as fake, temp_database(
            self.spec.database, self.scratch
        ) as url:
            store = Store(make_engine(url))
            measure = reader(url)
            self.env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "SLACK_BOT_TOKEN": fake.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
                "FIREBELL_CONFIG": str(config_path),
                "FIREBELL_RUNBOOKS": str(RUNBOOKS),
                "FIREBELL_HOST": HOST,
            }
            try:
                self.prepare(store, measure, config, fake)
                self.window(store)
                self.finish(measure)
            finally:
                for replica in self.replicas:
                    replica.stop()
                store.dispose()
            collect(measure, fake, self.result, self.outage)
            measure.dispose()
        self.judge()
        return self.result

    def prepare(
        self, store: Store, measure: Engine, config: Config, fake: EscalationFake
    ) -> None:
        """Declare, start the replicas, deliver the declaration-time outbox."""
        upgrade(store.engine)
        if self.opts.wait_quiet > 0:
            waited = wait_quiet(self.opts.wait_quiet)
            self.result.machine_load["waited_for_quiet_s"] = round(waited, 1)
            self.note(f"load average {os.getloadavg()[0]:.2f} after waiting {waited:.0f} s")
        t0 = time.monotonic()
        declare_incidents(store, config, self.opts.incidents)
        self.result.timings_s["declare"] = round(time.monotonic() - t0, 1)
        self.note(
            f"declared {self.opts.incidents} in {self.result.timings_s['declare']} s "
            f"(deadline rows by kind: {other_deadlines(measure)})"
        )
        self.result.code = code_version()
        for i in range(self.spec.processes):
            name = f"p{i + 1}"
            log_path = self.scratch / f"{self.spec.name}-{name}.log"
            self.replicas.append(Replica(name, self.env, log_path).start())
        done, waited = wait_until(
            lambda: pending_outbox(measure) == 0, self.opts.predrain_timeout
        )
        self.result.timings_s["declaration_outbox_drain"] = round(waited, 1)
        if not done:
            raise RuntimeError(
                f"declaration outbox not drained in {self.opts.predrain_timeout} s "
                f"({pending_outbox(measure)} rows left)"
            )
        self.note(
            f"declaration outbox delivered in {waited:.1f} s "
            f"({fake.declaration_dms} declaration DMs at the fake)"
        )
        fake.forget_calls()

    def window(self, store: Store) -> None:
        """Spread the deadlines ahead, then (kill run) kill and restart a replica."""
        self.cpu_at_start = (cpu_busy_s(), sum(r.cpu_now() for r in self.replicas))
        self.result.machine_load["loadavg_1m_at_window_start"] = os.getloadavg()[0]
        first_due = datetime.now(UTC) + timedelta(seconds=self.opts.lead)
        moved = spread_deadlines(store, first_due, self.opts.spread)
        start = first_due.timestamp()
        self.end = start + self.opts.spread
        self.note(f"{moved} escalate rows spread over {iso(start)} .. {iso(self.end)}")
        if self.opts.profile:
            self.profilers = profile_replicas(
                self.replicas, self.opts.lead + self.opts.spread + 5, self.spec.name
            )
        if not self.spec.kill:
            return
        sleep_until(start + self.opts.kill_at)
        victim = self.replicas[0]
        killed_at = victim.kill()
        self.note(f"SIGKILLed {victim.name} at +{killed_at - start:.1f} s")
        sleep_until(killed_at + self.opts.restart_after)
        again = Replica(
            f"{victim.name}-restarted",
            self.env,
            victim.log_path.with_suffix(".restarted.log"),
        )
        self.replicas.append(again.start())
        self.outage = Outage(killed_at, again.spawned_at, again.healthy_at, victim.owner)
        self.note(
            f"restarted at +{again.spawned_at - start:.1f} s, healthy after "
            f"{again.healthy_at - again.spawned_at:.1f} s"
        )

    def finish(self, measure: Engine) -> None:
        """Wait for every deadline to fire and the outbox to drain; measure the replicas."""
        sleep_until(self.end)
        busy, ours = self.cpu_at_start
        load = self.result.machine_load
        load["loadavg_1m_at_window_end"] = os.getloadavg()[0]
        load["window_machine_busy_cpu_s"] = round(cpu_busy_s() - busy, 1)
        load["window_replicas_cpu_s"] = round(
            sum(r.cpu_now() for r in self.replicas) - ours, 1
        )
        load["window_wall_s"] = round(self.opts.lead + self.opts.spread, 1)
        done, waited = wait_until(lambda: unfired(measure) == 0, max(120.0, 10 * self.opts.spread))
        self.result.timings_s["all_fired_after_window"] = round(waited, 1)
        self.note(f"window over; all fired: {done} (+{waited:.1f} s)")
        lease = LEASE_S if self.spec.kill and self.opts.wait_for_leases else 0.0
        done, waited = wait_until(
            lambda: pending_outbox(measure) == 0, self.opts.drain_timeout + lease
        )
        self.result.timings_s["outbox_drained_after_that"] = round(waited, 1)
        self.note(
            f"outbox drained: {done} (+{waited:.1f} s, {pending_outbox(measure)} rows left; "
            f"kill run waits up to the {LEASE_S:.0f} s lease: {bool(lease)})"
        )
        time.sleep(0.5)
        for replica in self.replicas:
            replica.measure()
        for profiler in self.profilers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                profiler.wait(timeout=30)
            _LIVE.pop(profiler.pid, None)

    def judge(self) -> None:
        r = self.result
        r.replicas = [
            {
                "name": x.name,
                "owner": x.owner,
                "peak_rss_mib": x.peak_rss_mib,
                "cpu_s": x.cpu_s,
                "fate": x.fate,
                "startup_s": round(x.healthy_at - x.spawned_at, 2),
            }
            for x in self.replicas
        ]
        r.errors_in_logs = {x.name: x.errors() for x in self.replicas if x.errors()}
        warnings: collections.Counter[str] = collections.Counter()
        for x in self.replicas:
            warnings.update(x.warnings())
        r.warnings_in_logs = dict(warnings.most_common(10))
        r.targets = {
            "exactly_once": r.fired_once == r.deadlines == self.opts.incidents
            and r.pages_per_incident_min == 1
            and r.pages_per_incident_max == 1,
        }
        if self.spec.kill:
            r.targets["handled_within_10s_of_restart"] = bool(
                r.outage and r.outage["handled_within_10s_of_restart"]
            )
        else:
            r.targets["p99_at_most_100ms"] = (r.lateness_ms.get("p99") or 1e9) <= TARGET_P99_MS


def sleep_until(at: float) -> None:
    left = at - time.time()
    if left > 0:
        time.sleep(left)


# -- output ------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def render(results: Sequence[RunResult]) -> str:
    rows = []
    for r in results:
        late, dl = r.lateness_ms, r.delivered_lateness_ms
        left = r.outbox.get("undelivered", 0)
        undelivered = f" ({left} undelivered)" if left else ""
        rss = "/".join(_fmt(x["peak_rss_mib"]) for x in r.replicas)
        rows.append(
            [
                r.name,
                r.processes,
                r.deadlines,
                r.fired_once,
                f"{r.pages_per_incident_min}/{r.pages_per_incident_max}" + undelivered,
                _fmt(late.get("p50")),
                _fmt(late.get("p95")),
                _fmt(late.get("p99")),
                _fmt(late.get("max")),
                _fmt(dl.get("p99")),
                rss,
                ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in r.targets.items()),
            ]
        )
    headers = [
        "run", "procs", "deadlines", "fired once", "pages/inc min/max", "late p50 ms",
        "p95", "p99", "max", "delivered p99 ms", "peak RSS MiB/proc", "targets",
    ]
    return table(headers, rows)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.escalation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000, help="deadlines per run")
    parser.add_argument("--spread", type=float, default=60.0, help="window length, seconds")
    parser.add_argument(
        "--lead", type=float, default=2 * DEADLINE_POLL_S,
        help="seconds from spreading the deadlines to the first one (> the 5 s poll)",
    )
    parser.add_argument("--kill-at", type=float, help="seconds into the window (spread/3)")
    parser.add_argument("--restart-after", type=float, default=5.0, help="seconds down")
    parser.add_argument(
        "--runs", default=",".join(r.name for r in RUNS),
        help=f"comma-separated subset of {','.join(r.name for r in RUNS)}",
    )
    parser.add_argument("--profile", action="store_true",
                        help="py-spy every replica over the window (bench/results/*.txt)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 300 incidents over 10 s, no wait for outbox leases")
    parser.add_argument(
        "--wait-quiet", type=float, default=0.0,
        help="before each run, wait up to this many seconds for load average < 1",
    )
    parser.add_argument("--name", default="escalation", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.incidents, args.spread, args.lead = 300, 10.0, 6.0
    if args.kill_at is None:
        args.kill_at = args.spread / 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    wanted = args.runs.split(",")
    unknown = set(wanted) - {r.name for r in RUNS}
    if unknown:
        print(f"unknown runs: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    opts = Options(
        incidents=args.incidents,
        spread=args.spread,
        lead=args.lead,
        kill_at=args.kill_at,
        restart_after=args.restart_after,
        predrain_timeout=max(120.0, args.incidents * 0.12),
        drain_timeout=15.0 if args.quick else 900.0,
        # Quick runs do not wait out the dead process's outbox leases (60 s).
        wait_for_leases=not args.quick,
        profile=args.profile,
        wait_quiet=args.wait_quiet,
    )
    results: list[RunResult] = []
    path = RESULTS_DIR / f"{args.name}.json"
    with workdir() as scratch:
        for spec in RUNS:
            if spec.name in wanted:
                log(f"run {spec.name}: {opts.incidents} deadlines over {opts.spread:.0f} s")
                results.append(Run(spec, opts, scratch).execute())
                # Written after every run, so an interrupted benchmark keeps what it has.
                path = save(args.name, opts, results, complete=len(results) == len(wanted))
                print(render(results[-1:]), file=sys.stderr, flush=True)
    print()
    print(
        f"Escalation: {opts.incidents} incidents declared with the real use case "
        f"(respond_within 3600s), their escalate rows' due_at moved to an even spread over "
        f"{opts.spread:.0f} s starting {opts.lead:.0f} s later; one escalation step each."
    )
    print(render(results))
    print(
        f"Targets: every deadline escalated exactly once (fired once = deadlines, one DM "
        f"each at the fake); lateness p99 <= {TARGET_P99_MS:.0f} ms without a kill; with a "
        f"kill, every deadline handled <= {TARGET_AFTER_RESTART_S:.0f} s after the restart."
    )
    print(
        "Lateness: created_at of the step's outbox rows (= the claim's database clock) - "
        "due_at. Delivered: escalation DM at the fake - due_at."
    )
    for r in results:
        if r.outage:
            print(f"{r.name} outage: " + ", ".join(f"{k} {v}" for k, v in r.outage.items()))
        if r.problems:
            print(f"{r.name} problems: " + "; ".join(r.problems[:5]))
        for warning, count in r.warnings_in_logs.items():
            print(f"{r.name} log warning x{count}: {warning}")
        for name, errors in r.errors_in_logs.items():
            print(f"{r.name} {name} log errors: {errors[:3]}")
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0 if all(all(r.targets.values()) for r in results) else 1


def save(name: str, opts: Options, results: Sequence[RunResult], *, complete: bool) -> Path:
    """Write bench/results/<name>.json with the runs so far."""
    return write_results(
        name,
        {
            "benchmark": "escalation",
            "machine": machine_facts(),
            "method": {
                "incidents": opts.incidents,
                "spread_s": opts.spread,
                "lead_s": opts.lead,
                "kill_at_s": opts.kill_at,
                "restart_after_s": opts.restart_after,
                "lease_s": LEASE_S,
                "deadline_poll_s": DEADLINE_POLL_S,
                "deadlines": "declared via bot.incidents.declare.declare (respond_within "
                "3600s), then escalate rows' due_at moved to an even spread",
                "lateness": "outbox created_at (claim-time database clock) - due_at",
            },
            "targets": {
                "exactly_once": True,
                "p99_ms": TARGET_P99_MS,
                "handled_after_restart_s": TARGET_AFTER_RESTART_S,
            },
            "complete": complete,
            "runs": [asdict(r) for r in results],
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
