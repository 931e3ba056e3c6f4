"""Pages under a degraded Slack: latency from declaration to DM, duplicates, undelivered.

Per database and mode: a fresh fake Slack (`bench.common.TimedFake`) and database,
`firebell serve` as its own process with production tuning, then `--declarations`
signed `/incident declare` requests, P1 and P2 over the five areas of the e2e config,
one every `--interval` s. Modes: `clean` (a healthy Slack), `faults` (issue 11's
degraded Slack: 10 % HTTP 500, 10 % HTTP 503 with an HTML body, 10 % HTTP 429 with
Retry-After: 1, 50-300 ms on every call) and `effect` (the same, half the 5xx coming
after the call took effect). Each page's outbox row is matched to its DMs by the row id
in the message metadata: request sent -> first DM stored by the fake. A page with no DM
120 s after the last declaration is undelivered; one with two DMs is a duplicate.
Target: 0 duplicates, 0 undelivered, page p99 <= 30 s.

Run: `python -m bench.degraded_slack [--quick] [--db sqlite,postgresql] [--modes ...]`.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine

from bench.common import (
    DECLARER,
    E2E_CONFIG,
    TimedFake,
    database,
    declare_form,
    quantile,
    serving,
    table,
    wait_until,
    write_results,
)
from bench.declare_to_page import pages
from bot.config.load import load_config
from bot.sandbox.faults import DEGRADED_SLACK, Chaos
from bot.sandbox.seed import seed
from bot.store.db import normalise_url

AREAS = ("model", "infra", "data", "ux", "policy")
MODES: dict[str, Chaos | None] = {
    "clean": None,
    "faults": DEGRADED_SLACK,
    "effect": replace(DEGRADED_SLACK, effect_then_error=True),
}
P99_BAR_S = 30.0
PATIENCE_S = 120.0


def declare(base: str, count: int, interval: float) -> dict[int, float]:
    """Send `count` declarations `interval` s apart; return when each incident's request
    was sent (wall clock, as the fake notes DMs)."""
    sent: dict[int, float] = {}
    with httpx.Client(base_url=base, timeout=10) as client:
        start = time.monotonic()
        for i in range(count):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            severity = "P1" if i % 3 == 0 else "P2"
            text = f"declare {severity} Degraded {i} area:{AREAS[i % len(AREAS)]}"
            body, headers = declare_form(i, f"bench.{i}", text=text)
            at = time.time()
            response = client.post("/slack/events", content=body, headers=headers)
            number = re.search(r"INC-(\d+) declared", response.text)
            if response.status_code != 200 or number is None:
                raise RuntimeError(f"a declaration failed: {response.status_code} {response.text}")
            sent[int(number[1])] = at
    return sent


def run(kind: str, mode: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One database and mode: declare, wait for the DMs, match them to their requests."""
    fake = TimedFake()
    with fake, database(kind, folder) as url:
        seed(fake, load_config(E2E_CONFIG), also=(DECLARER,))
        chaos = MODES[mode]
        if chaos is not None:
            fake.chaos(replace(chaos, seed=args.seed))
        with serving(fake, url, folder) as (_, base):
            sent = declare(base, args.declarations, args.interval)
            engine = create_engine(normalise_url(url))
            try:
                wait_until(
                    lambda: all(row in fake.dm_at for row, _ in pages(engine)), PATIENCE_S, 0.5
                )
                queued = pages(engine)
            finally:
                engine.dispose()
        injected = fake.injected()
    dm_at = fake.dms()
    latencies = sorted(min(dm_at[row]) - sent[n] for row, n in queued if row in dm_at)
    return {
        "database": kind,
        "mode": mode,
        "declarations": args.declarations,
        "pages": len(queued),
        "undelivered": sum(row not in dm_at for row, _ in queued),
        "duplicates": sum(len(dm_at.get(row, [])) > 1 for row, _ in queued),
        "faults_injected": injected,
        "page_s": {
            "p50": round(quantile(latencies, 0.5), 2) if latencies else None,
            "p95": round(quantile(latencies, 0.95), 2) if latencies else None,
            "p99": round(quantile(latencies, 0.99), 2) if latencies else None,
            "max": round(latencies[-1], 2) if latencies else None,
        },
    }


def met(r: dict[str, Any]) -> bool:
    """0 duplicates, 0 undelivered, page p99 within the bar."""
    p99 = r["page_s"]["p99"]
    return r["duplicates"] == 0 and r["undelivered"] == 0 and p99 is not None and p99 <= P99_BAR_S


def row(r: dict[str, Any]) -> list[object]:
    """A run's row of the printed table."""
    s = r["page_s"]
    faults = sum(r["faults_injected"].values())
    return [
        r["database"],
        r["mode"],
        f"{r['pages']} ({faults} faults)",
        f"{s['p50']} / {s['p95']} / {s['p99']} / {s['max']}",
        r["duplicates"],
        r["undelivered"],
        "yes" if met(r) else "NO",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write bench/results/degraded_slack.json; 1 if a bar is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.degraded_slack", description=__doc__)
    parser.add_argument("--declarations", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between requests")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--modes", default="clean,faults,effect")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20 declarations, faults only")
    args = parser.parse_args(argv)
    if args.quick:
        args.declarations, args.modes = 20, "faults"
    with tempfile.TemporaryDirectory(prefix="firebell-bench-") as tmp:
        results = [
            run(kind, mode, args, Path(tmp))
            for kind in args.db.split(",")
            for mode in args.modes.split(",")
        ]
    headers = ["database", "mode", "pages", "page p50 / p95 / p99 / max s", "twice", "lost", "met"]
    print(table(headers, [row(r) for r in results]))
    print(write_results("degraded_slack", {"interval_s": args.interval, "results": results}))
    return 0 if all(met(r) for r in results if r["mode"] != "clean") else 1


if __name__ == "__main__":
    raise SystemExit(main())
