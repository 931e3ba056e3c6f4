"""Time from a `/incident declare` request to the last page arriving at the fake Slack.

A declaration of a P1 on `checkout-assistant` pages the owning team (the ML on-call and
the accountable lead): each gets a DM with an `Acknowledge` button, and the incident
channel gets a "Paging for INC-n: ..." post mentioning them. The clock starts when the
bench sends the signed request and stops when the last of those messages is stored by
the fake Slack (for the DMs: one to every user the channel post mentions).

Declarations are sequential: one at a time, each waiting for the previous one's pages,
and started at least `--interval` seconds apart (default 1 s). Slack allows about one
message a second per channel and firebell paces itself to that, and every declaration
here DMs the same two people and posts to the same announcements channel, so faster
declarations would measure the pacing rather than the pipeline (`--interval 0` shows
that). The run is repeated with the fake answering at once and with 100 ms latency per
Web API call; each scenario gets a fresh fake, database and `firebell serve`.

Run: `python -m bench.declare_to_page [--quick] [--db sqlite|postgresql]`.
"""

from __future__ import annotations

import argparse
import http.client
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    HOST,
    BenchFake,
    Server,
    declare_request,
    firebell_command,
    install_cleanup,
    load_bench_config,
    machine_facts,
    other_load,
    server_env,
    start_fake,
    table,
    temp_database,
    wait_quiet,
    warn_other_load,
    workdir,
    write_results,
)
from bench.loadgen import percentile
from tests.serving import free_port

_INC = re.compile(r"INC-(\d+)")
PAGE_TIMEOUT = 60.0


@dataclass
class Sample:
    """One declaration: seconds from sending the request to each milestone."""

    number: int
    ack: float
    first_page: float | None
    last_page: float | None


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.declare_to_page", description=__doc__)
    parser.add_argument("--declarations", type=int, default=200, help="per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured declarations first")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between declaration starts"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--latencies",
        default="0,0.1",
        help="comma-separated fake Slack latencies per call, in seconds",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each scenario, wait up to this many seconds until no other firebell "
        "server runs and the machine is idle",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 declarations")
    parser.add_argument("--name", default=None, help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.declarations, args.warmup = 8, 1
    if args.declarations < 1 or args.interval < 0:
        parser.error("--declarations must be positive and --interval not negative")
    args.latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
    args.name = args.name or ("declare_to_page" if args.db == "sqlite"
                              else f"declare_to_page_{args.db}")
    return args


class Declarer:
    """Sends signed declarations over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.count = 0

    def declare(self) -> tuple[int, float, float]:
        """Declare one incident; return (number, send time, ack latency)."""
        self.count += 1
        request = declare_request(self.count, host=HOST, port=self.port)
        sent = time.perf_counter()
        self.conn.request("POST", "/slack/events", body=request.body, headers=request.headers)
        response = self.conn.getresponse()
        body = response.read().decode()
        acked = time.perf_counter() - sent
        match = _INC.search(body)
        if response.status != 200 or match is None:
            raise RuntimeError(f"declaration failed: HTTP {response.status} {body[:200]}")
        return int(match.group(1)), sent, acked

    def close(self) -> None:
        self.conn.close()


def _one(fake: BenchFake, declarer: Declarer) -> Sample:
    number, sent, acked = declarer.declare()
    arrivals = fake.wait_for_pages(number, timeout=PAGE_TIMEOUT)
    if arrivals is None:
        return Sample(number, acked, None, None)
    return Sample(number, acked, arrivals.first() - sent, arrivals.last() - sent)


def run_scenario(latency: float, args: argparse.Namespace, wd: Path) -> dict[str, Any]:
    """Fresh fake, database and firebell; warm up, then time each declaration."""
    config = load_bench_config()
    fake = start_fake(config)
    try:
        with temp_database(args.db, wd) as url:
            port = free_port()
            server = Server(
                f"firebell-{args.db}", [*firebell_command(), "serve"],
                server_env(fake, port, url), port, wd,
            ).start()
            declarer = Declarer(port)
            try:
                fake.latency = latency
                for _ in range(args.warmup):
                    _one(fake, declarer)
                    time.sleep(args.interval)
                samples: list[Sample] = []
                started = time.monotonic()
                for i in range(args.declarations):
                    due = started + i * args.interval
                    if (wait := due - time.monotonic()) > 0:
                        time.sleep(wait)
                    samples.append(_one(fake, declarer))
                elapsed = time.monotonic() - started
            finally:
                declarer.close()
                server.stop()
    finally:
        fake.stop()
    return _figures(latency, samples, elapsed)


def _figures(latency: float, samples: list[Sample], elapsed: float) -> dict[str, Any]:
    done = [s for s in samples if s.last_page is not None]
    last = [s.last_page for s in done if s.last_page is not None]
    first = [s.first_page for s in done if s.first_page is not None]
    acks = [s.ack for s in samples]

    def ms(values: list[float], pct: float) -> float | None:
        return round(percentile(values, pct) * 1000, 1) if values else None

    return {
        "fake_latency_s": latency,
        "declarations": len(samples),
        "all_pages_arrived": len(done) == len(samples),
        "missing_pages": [s.number for s in samples if s.last_page is None],
        "elapsed_s": round(elapsed, 1),
        "ack_p50_ms": ms(acks, 50),
        "ack_p95_ms": ms(acks, 95),
        "first_page_p50_ms": ms(first, 50),
        "last_page_p50_ms": ms(last, 50),
        "last_page_p95_ms": ms(last, 95),
        "last_page_max_ms": round(max(last) * 1000, 1) if last else None,
        "samples_ms": [
            {
                "incident": s.number,
                "ack": round(s.ack * 1000, 2),
                "first_page": None if s.first_page is None else round(s.first_page * 1000, 2),
                "last_page": None if s.last_page is None else round(s.last_page * 1000, 2),
            }
            for s in samples
        ],
    }


def render(scenarios: list[dict[str, Any]]) -> str:
    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    rows = [
        [
            f"{s['fake_latency_s'] * 1000:.0f} ms",
            s["declarations"],
            cell(s["ack_p50_ms"]),
            cell(s["first_page_p50_ms"]),
            cell(s["last_page_p50_ms"]),
            cell(s["last_page_p95_ms"]),
            cell(s["last_page_max_ms"]),
            "yes" if s["all_pages_arrived"] else f"NO ({len(s['missing_pages'])} missing)",
        ]
        for s in scenarios
    ]
    return table(
        ["fake latency/call", "declarations", "ack p50", "first page p50", "last page p50",
         "last page p95", "max", "all paged"],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    install_cleanup()
    facts = machine_facts()
    print(
        f"declare to page: {args.declarations} sequential declarations per scenario, "
        f"{args.interval:g} s apart, {args.db}; {facts['cpu_count']} CPUs, "
        f"Python {facts['python']}"
    )
    concurrent = {"at_start": warn_other_load("start")}
    scenarios = []
    with workdir() as wd:
        for latency in args.latencies:
            quiet = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
            figures = run_scenario(latency, args, wd)
            figures["quiet_before"] = quiet
            figures["other_load_after"] = other_load()
            scenarios.append(figures)
            print(
                f"  fake latency {latency * 1000:.0f} ms: last page p50 "
                f"{figures['last_page_p50_ms']} ms, p95 {figures['last_page_p95_ms']} ms",
                flush=True,
            )
    concurrent["at_end"] = warn_other_load("end")
    print("\ntimes in ms from sending the declare request")
    print(render(scenarios))
    result = {
        "benchmark": "declare_to_page",
        "machine": facts,
        "parameters": {
            "declarations_per_scenario": args.declarations,
            "warmup": args.warmup,
            "mode": "sequential (one declaration at a time, each waits for its pages)",
            "interval_s": args.interval,
            "database": args.db,
            "fake_latencies_s": args.latencies,
            "declare_text": "declare P1 Checkout answers are wrong <i> service:checkout-assistant",
            "config": "tests/configs/e2e.yaml",
            "firebell_tuning": "defaults of `firebell serve`",
        },
        "other_load_seen": concurrent,
        "scenarios": scenarios,
    }
    path = write_results(args.name, result)
    print(f"\nwrote {path}")
    return 0 if all(s["all_pages_arrived"] for s in scenarios) else 1


if __name__ == "__main__":
    raise SystemExit(main())
