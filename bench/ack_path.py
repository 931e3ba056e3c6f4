"""How fast firebell acks `/incident declare`, against a bare Bolt app that only acks.

For each round and each target (the bare app, firebell on SQLite, firebell on
PostgreSQL) the benchmark starts a fresh fake Slack (in this process, so the outbox
really delivers during the load), a fresh database and the server as a subprocess
(`firebell serve`, or `python -m bench.bare_bolt_app` served the same way), warms it
up, then sends `--requests` pre-signed `/incident declare P1 ...` slash commands, each
with its own trigger_id, over `--concurrency` keep-alive connections (closed loop).
Afterwards it checks in the database that every request declared exactly one
incident, numbered 1..n without gaps. Figures are the median of the rounds.

Run: `python -m bench.ack_path [--quick] [--requests N] [--load python|wrk]`.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    HOST,
    RESULTS_DIR,
    BenchFake,
    Server,
    bare_command,
    cpu_used_since,
    declare_request,
    firebell_command,
    install_cleanup,
    load_bench_config,
    machine_facts,
    other_load,
    processes_cpu,
    server_env,
    start_fake,
    table,
    temp_database,
    verify_declarations,
    verify_floor,
    wait_quiet,
    warn_other_load,
    workdir,
    write_results,
)
from bench.loadgen import LoadResult, PythonLoad, run_load
from tests.serving import free_port

TARGETS = {
    "bare": ("bare Bolt app (ack only)", None),
    "sqlite": ("firebell, SQLite", "sqlite"),
    "postgresql": ("firebell, PostgreSQL", "postgresql"),
    # What-ifs (not run unless named): the bare app doing the least a durable
    # declaration must do before its ack (bench/bare_bolt_app.py, BARE_FLOOR).
    "floor-thread": ("bare + a no-op in a thread", None),
    "floor-sqlite": ("bare + sqlite3 INSERT, COMMIT", None),
    "floor-sqlmodel": ("bare + SQLModel add, commit", None),
}
TARGET_RATIO = 0.5
TARGET_P99 = 0.020


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ack_path", description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="measured requests a round")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians")
    parser.add_argument("--concurrency", type=int, default=8, help="connections in flight")
    parser.add_argument("--processes", type=int, default=4, help="client processes (python)")
    parser.add_argument(
        "--load", choices=("python", "wrk"), default="python", help="load generator"
    )
    parser.add_argument(
        "--targets",
        default="bare,sqlite,postgresql",
        help="comma-separated subset of bare,sqlite,postgresql; what-ifs: floor-thread, "
        "floor-sqlite, floor-sqlmodel (the bare app plus the least a durable declaration "
        "does; see bench/README.md)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record firebell with py-spy during the last round (collapsed stacks in "
        "bench/results/<name>-<target>-profile.folded; see bench/README.md)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each round and target, wait up to this many seconds until no other "
        "firebell server runs and the machine is idle",
    )
    parser.add_argument(
        "--drain-window",
        type=float,
        default=5.0,
        help="seconds to watch firebell's CPU after the load, while it works off the "
        "outbox backlog (0: skip)",
    )
    parser.add_argument(
        "--bare-poll-for-ack",
        action="store_true",
        help="what-if: run the bare app with Bolt's process_before_response off, so that "
        "Bolt polls for the ack every 10 ms (firebell had it so before commit 56b5d89)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 requests, 1 round")
    parser.add_argument("--name", default="ack_path", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup, args.rounds = 200, 20, 1
        args.drain_window = 0.0
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {sorted(TARGETS)}")
    if args.requests < 1 or args.rounds < 1 or args.concurrency < 1:
        parser.error("--requests, --rounds and --concurrency must be positive")
    return args


@contextlib.contextmanager
def _py_spy(pid: int, out: Path, enabled: bool) -> Iterator[None]:
    """py-spy record the process while the block runs (when enabled and installed)."""
    beside = Path(sys.executable).parent / "py-spy"
    spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if not enabled or spy is None:
        yield
        return
    proc = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--rate", "250", "--gil", "--format", "raw",
         "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # let py-spy attach
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes the profile and exits
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def run_round(
    target: str, round_no: int, args: argparse.Namespace, wd: Path, pool: PythonLoad | None
) -> dict[str, Any]:
    """One round against one target: fresh fake, database and server."""
    config = load_bench_config()
    kind = TARGETS[target][1]
    fake = start_fake(config)
    try:
        with (temp_database(kind, wd) if kind else contextlib.nullcontext(None)) as url:
            port = free_port()
            argv = [*firebell_command(), "serve"] if kind else bare_command()
            env = server_env(fake, port, url)
            if kind is None and args.bare_poll_for_ack:
                env["BARE_PROCESS_BEFORE_RESPONSE"] = "0"
            if target.startswith("floor-"):
                env["BARE_FLOOR"] = target.removeprefix("floor-")
                env["BARE_FLOOR_DB"] = str(wd / f"floor-{round_no}-{time.monotonic_ns()}.db")
            server = Server(target, argv, env, port, wd).start()
            try:
                warm = [declare_request(i, host=HOST, port=port) for i in range(args.warmup)]
                if warm:
                    run_load(args.load, HOST, port, [r.raw for r in warm],
                             concurrency=args.concurrency, processes=args.processes, pool=pool)
                first = args.warmup
                reqs = [
                    declare_request(first + i, host=HOST, port=port) for i in range(args.requests)
                ]
                calls0, cpu0 = fake.call_count, server.cpu_split()
                db_cpu0 = processes_cpu("postgres")
                bench_cpu0 = time.process_time()  # this process: the fake Slack's threads
                assert server.proc is not None
                profile = RESULTS_DIR / f"{args.name}-{target}-profile.folded"
                profiling = args.profile and kind is not None and round_no == args.rounds
                if profiling:
                    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
                with _py_spy(server.proc.pid, profile, profiling):
                    load = run_load(args.load, HOST, port, [r.raw for r in reqs],
                                    concurrency=args.concurrency, processes=args.processes,
                                    pool=pool)
                cpu1 = server.cpu_split()
                fake_cpu = time.process_time() - bench_cpu0
                db_cpu = (
                    cpu_used_since(db_cpu0, processes_cpu("postgres"))
                    if kind == "postgresql" else None
                )
                server_cpu = (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1])
                fake_calls = fake.call_count - calls0
                sent = [r.trigger_id for r in (*warm, *reqs)]
                verification = (
                    verify_declarations(url, sent) if url
                    else verify_floor(env["BARE_FLOOR_DB"], sent)
                    if target in ("floor-sqlite", "floor-sqlmodel") else None
                )
                drain = _after_load(server, fake, args.drain_window) if kind else None
                start_seconds = server.start_seconds
            finally:
                stopped = server.stop()
    finally:
        fake.stop()
    # uvicorn re-raises SIGTERM after a clean shutdown, so the bare app ends with -15.
    clean = (0,) if kind else (0, -signal.SIGTERM)
    if stopped is not None and (stopped["needed_sigkill"] or stopped["exit_code"] not in clean):
        print(f"  {target}: did not stop cleanly on SIGTERM: {stopped}", flush=True)
    return _round_figures(target, round_no=round_no, load=load, server_cpu=server_cpu,
                          fake_calls=fake_calls, verification=verification, db_cpu=db_cpu,
                          fake_cpu=fake_cpu, drain=drain, stopped=stopped,
                          start_seconds=start_seconds)


def _after_load(server: Server, fake: BenchFake, window: float) -> dict[str, Any] | None:
    """What firebell does in the `window` seconds after the load, with no requests coming:
    the outbox backlog the load left is being delivered (paced per channel)."""
    if window <= 0:
        return None
    cpu0, calls0 = server.cpu_seconds(), fake.call_count
    time.sleep(window)
    cpu = server.cpu_seconds() - cpu0
    calls = fake.call_count - calls0
    return {
        "window_s": window,
        "firebell_cpu_share_of_one_core": round(cpu / window, 3),
        "slack_calls": calls,
        "firebell_cpu_ms_per_slack_call": round(cpu / calls * 1000, 2) if calls else None,
    }


def _round_figures(
    target: str,
    *,
    round_no: int,
    load: LoadResult,
    server_cpu: tuple[float, float],
    fake_calls: int,
    verification: dict[str, Any] | None,
    db_cpu: float | None,
    fake_cpu: float,
    drain: dict[str, Any] | None,
    stopped: dict[str, Any] | None,
    start_seconds: float,
) -> dict[str, Any]:
    numbers = load.incident_numbers
    ok_200 = load.statuses.get(200, 0)
    figures: dict[str, Any] = {
        "target": target,
        "round": round_no,
        "generator": load.generator,
        "requests": load.sent,
        "answered": load.answered,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "client_errors": load.errors,
        "duration_s": round(load.duration, 4),
        "throughput_rps": round(load.throughput, 1),
        "p50_ms": round(load.p50 * 1000, 3),
        "p99_ms": round(load.p99 * 1000, 3),
        "server_cpu_s": round(sum(server_cpu), 3),
        "server_cpu_system_share": round(server_cpu[1] / sum(server_cpu), 3)
        if sum(server_cpu) else None,
        "server_cpu_per_request_ms": round(sum(server_cpu) / max(load.sent, 1) * 1000, 3),
        "postgres_cpu_per_request_ms": None if db_cpu is None
        else round(db_cpu / max(load.sent, 1) * 1000, 3),
        "fake_slack_cpu_per_request_ms": round(fake_cpu / max(load.sent, 1) * 1000, 3),
        "client_cpu_s": round(load.client_cpu, 3),
        "client_cpu_per_request_ms": round(load.client_cpu / max(load.sent, 1) * 1000, 4),
        "machine_busy_fraction": load.machine_busy,
        "fake_slack_calls_during_load": fake_calls,
        "all_answered_200": ok_200 == load.sent,
    }
    if numbers:
        figures["acks_with_distinct_incident_numbers"] = len(set(numbers)) == len(numbers)
    if verification is not None:
        figures["verification"] = verification
    if drain is not None:
        figures["after_load"] = drain
    figures["server_stop"] = stopped
    figures["server_start_seconds"] = start_seconds
    return figures


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def summarise(rounds: list[dict[str, Any]], targets: list[str]) -> dict[str, dict[str, Any]]:
    """Median figures per target, ratio to the bare app, and the targets' verdicts."""
    out: dict[str, dict[str, Any]] = {}
    for target in targets:
        mine = [r for r in rounds if r["target"] == target]
        summary: dict[str, Any] = {
            "label": TARGETS[target][0],
            "rounds": len(mine),
            "throughput_rps": _median(mine, "throughput_rps"),
            "p50_ms": _median(mine, "p50_ms"),
            "p99_ms": _median(mine, "p99_ms"),
            "server_cpu_per_request_ms": _median(mine, "server_cpu_per_request_ms"),
            "fake_slack_cpu_per_request_ms": _median(mine, "fake_slack_cpu_per_request_ms"),
            "client_cpu_per_request_ms": _median(mine, "client_cpu_per_request_ms"),
            "machine_busy_fraction": _median(
                [r for r in mine if r["machine_busy_fraction"] is not None],
                "machine_busy_fraction",
            ) if any(r["machine_busy_fraction"] is not None for r in mine) else None,
            "all_answered_200": all(r["all_answered_200"] for r in mine),
        }
        if any("verification" in r for r in mine):
            summary["committed_exactly_once"] = all(
                r.get("verification", {}).get("ok") for r in mine
            )
        if TARGETS[target][1] is not None:
            summary["fake_slack_calls_during_load"] = _median(
                mine, "fake_slack_calls_during_load"
            )
            db = [r["postgres_cpu_per_request_ms"] for r in mine
                  if r.get("postgres_cpu_per_request_ms") is not None]
            if db:
                summary["postgres_cpu_per_request_ms"] = float(statistics.median(db))
            drains = [r["after_load"] for r in mine if "after_load" in r]
            if drains:
                summary["after_load_firebell_cpu_share"] = float(statistics.median(
                    d["firebell_cpu_share_of_one_core"] for d in drains
                ))
                summary["after_load_slack_calls_per_s"] = float(statistics.median(
                    d["slack_calls"] / d["window_s"] for d in drains
                ))
        out[target] = summary
    bare = out.get("bare")
    for target, summary in out.items():
        if target == "bare" or bare is None:
            continue
        ratio = summary["throughput_rps"] / bare["throughput_rps"]
        summary["throughput_ratio"] = round(ratio, 3)
        summary["meets_ratio_target"] = ratio >= TARGET_RATIO
    for target, summary in out.items():
        if target != "bare":
            summary["meets_p99_target"] = summary["p99_ms"] <= TARGET_P99 * 1000
    return out


def render(summary: dict[str, dict[str, Any]]) -> str:
    rows: list[list[object]] = []
    for target, s in summary.items():
        ratio = s.get("throughput_ratio")
        rows.append(
            [
                s["label"],
                f"{s['throughput_rps']:.0f}",
                f"{s['p50_ms']:.1f}",
                f"{s['p99_ms']:.1f}" + ("" if target == "bare" else
                                        (" ok" if s["meets_p99_target"] else " MISS")),
                "-" if ratio is None else f"{ratio:.2f}" + (
                    " ok" if s["meets_ratio_target"] else " MISS"),
                f"{s['server_cpu_per_request_ms']:.2f}",
                "-" if "committed_exactly_once" not in s else (
                    "yes" if s["committed_exactly_once"] else "NO"),
            ]
        )
    return table(
        ["target", "req/s", "p50 ms", "p99 ms (<=20)", "ratio (>=0.5)", "srv CPU ms/req",
         "each committed once"],
        rows,
    )


def _round_line(f: dict[str, Any]) -> str:
    check = f.get("verification", {}).get("ok")
    db = f.get("postgres_cpu_per_request_ms")
    return (
        f"  round {f['round']} {f['target']:<10} {f['throughput_rps']:>7.0f} req/s  "
        f"p50 {f['p50_ms']:6.1f} ms  p99 {f['p99_ms']:6.1f} ms  "
        f"firebell CPU {f['server_cpu_per_request_ms']:.2f} ms/req  "
        + ("" if db is None else f"postgres CPU {db:.2f} ms/req  ")
        + f"fake Slack CPU {f['fake_slack_cpu_per_request_ms']:.2f} ms/req  "
        f"client CPU {f['client_cpu_per_request_ms']:.3f} ms/req  "
        f"machine busy {f['machine_busy_fraction']}  "
        f"Slack calls {f['fake_slack_calls_during_load']}"
        + ("" if check is None else f"  committed once: {check}")
        + ("" if "after_load" not in f else
           f"\n      after the load ({f['after_load']['window_s']:g} s, no requests): firebell "
           f"busy {f['after_load']['firebell_cpu_share_of_one_core']:.0%} of a core for "
           f"{f['after_load']['slack_calls']} Slack calls")
    )


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    install_cleanup()
    facts = machine_facts()
    print(
        f"ack path: {args.rounds} round(s) x {args.requests} requests (+{args.warmup} warm-up), "
        f"concurrency {args.concurrency}, load: {args.load}; "
        f"{facts['cpu_count']} CPUs, Python {facts['python']}"
    )
    concurrent = {"at_start": warn_other_load("start")}
    rounds: list[dict[str, Any]] = []
    started = time.monotonic()
    pool = PythonLoad(args.processes) if args.load == "python" else None
    with workdir() as wd, pool or contextlib.nullcontext():
        for round_no in range(1, args.rounds + 1):
            for target in args.targets:
                quiet = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
                figures = run_round(target, round_no, args, wd, pool)
                figures["quiet_before"] = quiet
                figures["other_load_after"] = other_load()
                rounds.append(figures)
                print(_round_line(figures), flush=True)
    concurrent["at_end"] = warn_other_load("end")
    summary = summarise(rounds, args.targets)
    print()
    print(render(summary))
    failed = [
        r for r in rounds
        if not r["all_answered_200"] or not r.get("verification", {"ok": True})["ok"]
    ]
    result = {
        "benchmark": "ack_path",
        "machine": facts,
        "parameters": {
            "requests_per_round": args.requests,
            "warmup_per_round": args.warmup,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "client_processes": args.processes,
            "load_generator": args.load,
            "bare_process_before_response": not args.bare_poll_for_ack,
            "targets": args.targets,
            "declare_text": "declare P1 Checkout answers are wrong <i> service:checkout-assistant",
            "config": "tests/configs/e2e.yaml",
            "targets_required": {"throughput_ratio_min": TARGET_RATIO,
                                 "p99_ms_max": TARGET_P99 * 1000},
        },
        "other_load_seen": concurrent,
        "summary": summary,
        "rounds": rounds,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    path = write_results(args.name, result)
    print(f"\nwrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if failed:
        print(f"{len(failed)} round(s) had non-200 answers or failed the exactly-once check")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
