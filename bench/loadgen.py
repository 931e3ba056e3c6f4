"""Closed-loop HTTP/1.1 load generators that replay pre-built requests, each exactly once.

Two generators with the same contract (each request sent once, ``concurrency``
keep-alive connections, a latency per request):

* ``python``: ``processes`` client processes (``spawn``, started once and reused), each with
  ``concurrency / processes`` threads, one keep-alive socket per thread. Requests are
  pre-serialised bytes; the response is read with a minimal parser (status line,
  ``Content-Length``), so a request costs the client a few tens of microseconds of CPU.
* ``wrk``: the C load generator with a Lua script that replays the same requests from
  length-prefixed files, one per wrk thread. A connection whose thread has used up its
  list sends nothing more; a thread that has all its answers drops a marker file, and
  once every thread has, the caller sends wrk SIGINT (wrk otherwise runs for its whole
  ``-d``), on which wrk stops and reports. wrk checks thread 0's ``request()`` once
  before the run; that call gets a harmless ``GET`` (404, not counted) instead of a
  declaration.

This module imports only the standard library: spawned client processes import it and
must start fast and stay small.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_INC = re.compile(rb"INC-(\d+)")
MAX_HEADER = 65_536
MAX_RECONNECTS = 3


@dataclass
class LoadResult:
    """What one load run measured."""

    generator: str
    sent: int
    latencies: list[float]  # seconds, one per answered request (wrk: empty)
    statuses: dict[int, int]
    duration: float  # first send to last answer, seconds
    incident_numbers: list[int] = field(default_factory=list)  # INC-<n> seen in answers
    errors: int = 0
    client_cpu: float = 0.0  # CPU seconds the load generator used
    machine_busy: float | None = None  # share of all CPUs busy while the load ran
    p50: float = 0.0
    p99: float = 0.0

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def throughput(self) -> float:
        return self.answered / self.duration if self.duration > 0 else 0.0

    def summarise(self) -> None:
        """Fill p50/p99 from the per-request latencies (wrk fills them itself)."""
        if self.latencies:
            self.p50 = percentile(self.latencies, 50)
            self.p99 = percentile(self.latencies, 99)


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = parts[3] + parts[4]
        total = sum(parts[:8])
        return float(total - idle), float(total)
    return 0.0, 0.0


def busy_between(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """The share of the machine's CPU time that was busy between two `system_cpu()`."""
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total > 0 else None


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (`pct` in 0..100) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered) - 1e-9)))
    return ordered[rank - 1]


# -- python generator -------------------------------------------------------------------


class _Connection:
    """One keep-alive HTTP/1.1 connection with a minimal response reader."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock = self._connect()
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def reconnect(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        self.sock = self._connect()
        self.buffer = b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body)."""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
            if len(self.buffer) > MAX_HEADER:
                raise ConnectionError("response headers too long")
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding":
                raise ConnectionError("chunked responses are not expected here")
        while len(rest) < length:
            chunk = self.sock.recv(65_536)
            if not chunk:
                raise ConnectionError("connection closed mid-body")
            rest += chunk
        body, self.buffer = rest[:length], rest[length:]
        return status, body

    def _fill(self) -> None:
        chunk = self.sock.recv(65_536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buffer += chunk


@dataclass
class _ThreadOutcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    numbers: list[int] = field(default_factory=list)
    errors: int = 0
    first: float = float("inf")
    last: float = 0.0


def _drive(conn: _Connection, requests: list[bytes], out: _ThreadOutcome) -> None:
    perf = time.perf_counter
    for request in requests:
        for attempt in range(MAX_RECONNECTS + 1):
            start = perf()
            out.first = min(out.first, start)
            try:
                status, body = conn.exchange(request)
            except (OSError, ConnectionError, ValueError, IndexError):
                out.errors += 1
                if attempt == MAX_RECONNECTS:
                    break
                with contextlib.suppress(OSError):
                    conn.reconnect()
                continue
            end = perf()
            out.last = end
            out.latencies.append(end - start)
            out.statuses[status] = out.statuses.get(status, 0) + 1
            if (match := _INC.search(body)) is not None:
                out.numbers.append(int(match.group(1)))
            break


def _run_job(host: str, port: int, slices: list[list[bytes]], ready: Any, inbox: Any) -> Any:
    """Connect a keep-alive socket per slice, say ready, wait for "go", send, report."""
    cpu0 = time.process_time()
    conns = [_Connection(host, port) for _ in slices]
    outcomes = [_ThreadOutcome() for _ in slices]
    threads = [
        threading.Thread(target=_drive, args=(c, s, o), daemon=True)
        for c, s, o in zip(conns, slices, outcomes, strict=True)
    ]
    ready.put(None)
    if inbox.get(timeout=120) != "go":
        raise RuntimeError("load job cancelled")
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for conn in conns:
        conn.close()
    merged = _ThreadOutcome()
    for o in outcomes:
        merged.latencies += o.latencies
        merged.numbers += o.numbers
        merged.errors += o.errors
        merged.first = min(merged.first, o.first)
        merged.last = max(merged.last, o.last)
        for status, count in o.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
    return {
        "latencies": merged.latencies,
        "statuses": merged.statuses,
        "numbers": merged.numbers,
        "errors": merged.errors,
        "first": merged.first,
        "last": merged.last,
        "cpu": time.process_time() - cpu0,
    }


def _client_worker(inbox: Any, ready: Any, results: Any) -> None:
    """A client process: runs the load jobs from `inbox` until it gets None."""
    while (job := inbox.get()) is not None:
        host, port, slices = job
        try:
            results.put(_run_job(host, port, slices, ready, inbox))
        except Exception as err:
            ready.put(f"{type(err).__name__}: {err}")
            results.put({"error": f"{type(err).__name__}: {err}"})


@contextlib.contextmanager
def _children_skip_main() -> Iterator[None]:
    """Let processes spawned meanwhile skip re-importing the parent's `__main__`.

    A spawned child normally imports the parent's main module first: here a benchmark
    that imports firebell, SQLAlchemy and the fake Slack, about a second of CPU per
    child, competing with the server being started. The client processes need only this
    module (standard library only), so `__main__` is hidden from multiprocessing while
    they start.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    spec, path = getattr(main, "__spec__", None), main.__dict__.get("__file__")
    main.__spec__ = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__dict__["__file__"] = path


class PythonLoad:
    """Client processes, spawned once and reused for every load run."""

    def __init__(self, processes: int = 4) -> None:
        self.processes = max(1, processes)
        ctx = multiprocessing.get_context("spawn")
        self._ready, self._results = ctx.Queue(), ctx.Queue()
        self._inboxes = [ctx.Queue() for _ in range(self.processes)]
        self._procs = [
            ctx.Process(
                target=_client_worker,
                args=(inbox, self._ready, self._results),
                name=f"loadgen-{i}",
                daemon=True,
            )
            for i, inbox in enumerate(self._inboxes)
        ]

    def __enter__(self) -> PythonLoad:
        with _children_skip_main():
            for proc in self._procs:
                proc.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for inbox in self._inboxes:
            inbox.put(None)
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def run(
        self, host: str, port: int, requests: list[bytes], *, concurrency: int = 8
    ) -> LoadResult:
        """Send every request once over `concurrency` connections spread over the pool."""
        processes = min(self.processes, concurrency)
        slices: list[list[bytes]] = [requests[i::concurrency] for i in range(concurrency)]
        for p in range(processes):
            self._inboxes[p].put((host, port, slices[p::processes]))
        problems = [self._ready.get(timeout=60) for _ in range(processes)]
        cpu_before = system_cpu()
        for p in range(processes):
            self._inboxes[p].put("go")
        parts = [self._results.get(timeout=600) for _ in range(processes)]
        cpu_after = system_cpu()
        errors = [str(x) for x in problems if x is not None] + [
            str(part["error"]) for part in parts if "error" in part
        ]
        if errors:
            raise RuntimeError(f"load generator failed: {errors[0]}")
        result = LoadResult(
            generator=f"python ({processes} processes x {concurrency // processes} connections)",
            sent=len(requests),
            latencies=[x for part in parts for x in part["latencies"]],
            statuses={},
            duration=max(p["last"] for p in parts) - min(p["first"] for p in parts),
            incident_numbers=[n for part in parts for n in part["numbers"]],
            errors=sum(p["errors"] for p in parts),
            client_cpu=sum(p["cpu"] for p in parts),
            machine_busy=busy_between(cpu_before, cpu_after),
        )
        for part in parts:
            for status, count in part["statuses"].items():
                result.statuses[int(status)] = result.statuses.get(int(status), 0) + count
        result.summarise()
        return result


def run_python(
    host: str, port: int, requests: list[bytes], *, concurrency: int = 8, processes: int = 4
) -> LoadResult:
    """Send every request once over `concurrency` connections in `processes` processes."""
    with PythonLoad(min(processes, concurrency)) as pool:
        return pool.run(host, port, requests, concurrency=concurrency)


# -- wrk generator -------------------------------------------------------------------------

_WRK_SCRIPT = r"""
-- Replays length-prefixed raw requests from <prefix>.<thread index>, each once.
local threads_made = 0
function setup(thread)
  thread:set("tid", threads_made)
  threads_made = threads_made + 1
end

function init(args)
  args_prefix = args[1]
  local f = assert(io.open(args[1] .. "." .. tid, "rb"))
  local data = f:read("*a")
  f:close()
  reqs = {}
  -- wrk calls request() of thread 0 once before the run to check it: give that call
  -- a harmless GET (404, ignored below) instead of a declaration.
  if tid == 0 then
    reqs[1] = "GET /bench-verify-404 HTTP/1.1\r\nHost: " .. args[2] .. "\r\n\r\n"
  end
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local len = tonumber(data:sub(pos, nl - 1))
    reqs[#reqs + 1] = data:sub(nl + 1, nl + len)
    pos = nl + len + 1
  end
  expected = #reqs - (tid == 0 and 1 or 0)
  idx, answered = 0, 0
end

function request()
  idx = idx + 1
  if idx > #reqs then
    -- Used up: send nothing, so this connection idles until wrk is stopped.
    return ""
  end
  return reqs[idx]
end

function response(status, headers, body)
  if status == 404 then
    return
  end
  answered = answered + 1
  if answered == expected then
    -- wrk runs for its -d duration whatever the threads do: tell the caller, who
    -- sends SIGINT (wrk then stops and reports) once every thread is through.
    local marker = io.open(args_prefix .. ".done." .. tid, "w")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("BENCH_WRK_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %f,' ..
    ' "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d,' ..
    ' "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  out:close()
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    host: str, port: int, requests: list[bytes], *, concurrency: int = 8, threads: int = 2
) -> LoadResult:
    """Send every request once with wrk (`threads` threads, `concurrency` connections).

    wrk only reports its histogram's p50/p99 and its counts; the per-request INC numbers
    are not seen (the database check covers them).
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    threads = max(1, min(threads, concurrency))
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        prefix = Path(tmp) / "requests"
        for t in range(threads):
            with open(f"{prefix}.{t}", "wb") as out:
                for request in requests[t::threads]:
                    out.write(b"%d\n" % len(request) + request)
        script = Path(tmp) / "replay.lua"
        script.write_text(_WRK_SCRIPT)
        result_file = Path(tmp) / "result.json"
        started = time.perf_counter()
        cpu0 = os.times()
        cpu_before = system_cpu()
        argv = [
            wrk, f"-t{threads}", f"-c{concurrency}", "-d600s", "--timeout", "30s",
            "-s", str(script), f"http://{host}:{port}/slack/events", "--", str(prefix),
            f"{host}:{port}",
        ]
        env = {**os.environ, "BENCH_WRK_OUT": str(result_file)}
        markers = [Path(f"{prefix}.done.{t}") for t in range(threads)]
        with subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            deadline = time.monotonic() + 600
            while proc.poll() is None and time.monotonic() < deadline:
                if all(m.exists() for m in markers):
                    proc.send_signal(signal.SIGINT)
                    break
                time.sleep(0.001)
            try:
                wrk_out, wrk_err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                wrk_out, wrk_err = proc.communicate(timeout=10)
        cpu1 = os.times()
        cpu_after = system_cpu()
        wall = time.perf_counter() - started
        if proc.returncode != 0 or not result_file.exists():
            raise RuntimeError(f"wrk failed ({proc.returncode}): {wrk_err or wrk_out}")
        data = json.loads(result_file.read_text())
    errors = sum(
        int(data[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    answered = len(requests)
    result = LoadResult(
        generator=f"wrk ({threads} threads x {concurrency // threads} connections)",
        sent=len(requests),
        latencies=[],
        statuses={200: answered},  # non-2xx are counted below from wrk's status errors
        duration=max(int(data["duration_us"]) / 1e6, 1e-9) if data["duration_us"] else wall,
        errors=errors,
        client_cpu=(cpu1.children_user - cpu0.children_user)
        + (cpu1.children_system - cpu0.children_system),
        p50=int(data["p50_us"]) / 1e6,
        p99=int(data["p99_us"]) / 1e6,
        machine_busy=busy_between(cpu_before, cpu_after),
    )
    bad = int(data["status_errors"])
    if bad > 0:
        result.statuses = {200: answered - bad, 0: bad}
    return result


def run_load(
    generator: str,
    host: str,
    port: int,
    requests: list[bytes],
    *,
    concurrency: int = 8,
    processes: int = 4,
    pool: PythonLoad | None = None,
) -> LoadResult:
    """Dispatch to the `python` (reusing `pool` when given) or `wrk` generator."""
    if generator == "wrk":
        return run_wrk(host, port, requests, concurrency=concurrency, threads=min(processes, 2))
    if generator == "python":
        if pool is not None:
            return pool.run(host, port, requests, concurrency=concurrency)
        return run_python(host, port, requests, concurrency=concurrency, processes=processes)
    raise ValueError(f"unknown load generator {generator!r}")
