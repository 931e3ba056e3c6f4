"""A storm of declarations, then what delivery does with the backlog it leaves.

`--declarations` signed `/incident declare P1 ...` requests are sent at once
(concurrency 8) to a fresh `firebell serve`; each pages the same two people (the ML
on-call and the accountable lead) and mirrors to the same announcements channel, so
every page and announcement queues on three channels that Slack lets take about one
message a second. Then, with no more requests, the benchmark watches delivery for
`--window` seconds and reports every Web API call the fake Slack received, by method,
with firebell's CPU per call. No target: it shows where delivery's time goes in a
storm, and that it is spent on messages rather than on going round in circles
(`conversations.history` is only for rows whose earlier attempt may have reached Slack).

Run: `python -m bench.storm [--quick] [--db sqlite|postgresql]`.
"""

from __future__ import annotations

import argparse
import collections
import time
from typing import Any

from bench.common import (
    HOST,
    Server,
    declare_request,
    firebell_command,
    install_cleanup,
    load_bench_config,
    machine_facts,
    server_env,
    start_fake,
    table,
    temp_database,
    workdir,
    write_results,
)
from bench.loadgen import PythonLoad, run_load
from tests.serving import free_port


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__)
    parser.add_argument("--declarations", type=int, default=1500)
    parser.add_argument("--window", type=float, default=120.0, help="seconds watched after")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100, 15 s")
    parser.add_argument("--name", default="storm", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.declarations, args.window = 100, 15.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    install_cleanup()
    config = load_bench_config()
    print(
        f"storm: {args.declarations} declarations at once on {args.db}, "
        f"then {args.window:g} s of delivery"
    )
    fake = start_fake(config)
    with workdir() as wd, temp_database(args.db, wd) as url, PythonLoad(4) as pool:
        port = free_port()
        server = Server(
            args.db, [*firebell_command(), "serve"], server_env(fake, port, url), port, wd
        ).start()
        try:
            requests = [declare_request(i, host=HOST, port=port) for i in range(args.declarations)]
            started = time.monotonic()
            load = run_load("python", HOST, port, [r.raw for r in requests],
                            concurrency=8, processes=4, pool=pool)
            acked = time.monotonic() - started
            cpu0, calls0 = server.cpu_seconds(), fake.call_count
            marks: list[dict[str, Any]] = []
            for second in range(1, int(args.window) + 1):
                time.sleep(max(0.0, started + acked + second - time.monotonic()))
                if second % 10 == 0 or second == int(args.window):
                    marks.append({"after_s": second, "calls": fake.call_count - calls0,
                                  "cpu_s": round(server.cpu_seconds() - cpu0, 2)})
            cpu = server.cpu_seconds() - cpu0
            calls = list(fake.calls)[calls0:]
        finally:
            server.stop()
    fake.stop()
    by_method = collections.Counter(c.method for c in calls)
    posts = by_method.get("chat.postMessage", 0)
    figures = {
        "declarations": args.declarations,
        "acked_in_s": round(acked, 2),
        "all_acked_200": load.statuses.get(200, 0) == args.declarations,
        "window_s": args.window,
        "calls": len(calls),
        "calls_by_method": dict(by_method.most_common()),
        "firebell_cpu_s": round(cpu, 2),
        "cpu_ms_per_call": round(cpu / len(calls) * 1000, 2) if calls else None,
        "cpu_ms_per_post": round(cpu / posts * 1000, 2) if posts else None,
        "every_10_s": marks,
    }
    print(f"  acked all {args.declarations} in {acked:.1f} s; then in {args.window:g} s:")
    print(table(["method", "calls"], [[m, n] for m, n in by_method.most_common()]))
    print(
        f"\nfirebell CPU {cpu:.1f} s: {figures['cpu_ms_per_call']} ms per call, "
        f"{figures['cpu_ms_per_post']} ms per chat.postMessage"
    )
    path = write_results(
        args.name if args.db == "sqlite" else f"{args.name}_{args.db}",
        {"benchmark": "storm", "machine": machine_facts(), "parameters": vars(args),
         "figures": figures},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
