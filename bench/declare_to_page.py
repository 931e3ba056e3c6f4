"""How long from `/incident declare` to each paged person's DM in Slack: p50, p99, max.

Per database: a fresh fake Slack (`bench.common.TimedFake`) and database, `firebell
serve` as its own process, then `--warmup` unmeasured and `--declarations` measured
signed `/incident declare P1 ... service:checkout-assistant` (e2e config: pages the ML
on-call and the accountable lead), one every `--interval` s. The same two people are
paged each time and firebell sends a DM channel ~1 message a second, as Slack asks, so
a shorter interval measures that pacing. Each `page` outbox row is matched to its DM by
the row id in the message metadata: request sent -> DM stored by the fake. No bar.

Run: `python -m bench.declare_to_page [--quick] [--db sqlite,postgresql]`.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.common import (
    DECLARER,
    E2E_CONFIG,
    TimedFake,
    database,
    declare_form,
    serving,
    spread,
    table,
    wait_until,
    write_results,
)
from bot.config.load import load_config
from bot.sandbox.seed import seed
from bot.store.db import normalise_url
from bot.store.tables import Incident, OutboxMessage

TEXT = "declare P1 Checkout answers are wrong {i} service:checkout-assistant"


def declare(base: str, count: int, interval: float) -> tuple[dict[int, float], list[float]]:
    """Send `count` declarations `interval` s apart; return when each incident's request
    was sent (wall clock, as the fake notes DMs) and each ack's latency (s)."""
    sent: dict[int, float] = {}
    acks: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        start = time.monotonic()
        for i in range(count):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            body, headers = declare_form(i, f"bench.{i}", text=TEXT.format(i=i))
            at = time.time()
            response = client.post("/slack/events", content=body, headers=headers)
            acks.append(time.time() - at)
            number = re.search(r"INC-(\d+) declared", response.text)
            if response.status_code != 200 or number is None:
                raise RuntimeError(f"a declaration failed: {response.status_code} {response.text}")
            sent[int(number[1])] = at
    return sent, acks


def pages(engine: Engine) -> list[tuple[int, int]]:
    """(outbox row id, incident number) of every page queued so far."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(col(OutboxMessage.id), col(Incident.number))
            .join(Incident, col(Incident.id) == col(OutboxMessage.incident_id))
            .where(col(OutboxMessage.kind) == "page")
        )
        return [(row, number) for row, number in rows if row is not None and number is not None]


def run(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One database: declare, wait for the DMs, match them to their requests."""
    fake = TimedFake()
    with fake, database(kind, folder) as url:
        seed(fake, load_config(E2E_CONFIG), also=(DECLARER,))
        with serving(fake, url, folder) as (_, base):
            sent, acks = declare(base, args.warmup + args.declarations, args.interval)
            # Plain transactions: firebell's SQLite engine takes the write lock at BEGIN.
            engine = create_engine(normalise_url(url))
            try:
                arrived = wait_until(
                    lambda: all(row in fake.dm_at for row, _ in pages(engine)), timeout=60
                )
                queued = [(row, n) for row, n in pages(engine) if n > args.warmup]
            finally:
                engine.dispose()
    dm_at = fake.dms()
    latencies = [(min(dm_at[row]) - sent[n]) * 1000 for row, n in queued if row in dm_at]
    return {
        "database": kind,
        "declarations": args.declarations,
        "pages": len(queued),
        "dms": len(latencies),
        "duplicate_dms": sum(len(dm_at.get(row, [])) > 1 for row, _ in queued),
        "all_arrived": arrived,
        "ack_ms": spread([ack * 1000 for ack in acks[args.warmup :]]),
        "dm_ms": spread(latencies),
    }


def row(r: dict[str, Any]) -> dict[str, object]:
    """A database's row of the printed table, by column."""
    return {
        "database": r["database"],
        "declarations": r["declarations"],
        "pages (DMs, twice)": f"{r['pages']} ({r['dms']}, {r['duplicate_dms']})",
        "ack p50 / p99 ms": f"{r['ack_ms'].get('p50')} / {r['ack_ms'].get('p99')}",
        "DM p50 / p99 / max ms": " / ".join(str(v) for v in r["dm_ms"].values()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write bench/results/declare_to_page.json; 1 if a page
    never reached the fake."""
    parser = argparse.ArgumentParser(prog="python -m bench.declare_to_page", description=__doc__)
    parser.add_argument("--declarations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between requests")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="10 declarations, 1 warm-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.declarations, args.warmup = 10, 1
    with tempfile.TemporaryDirectory(prefix="firebell-bench-") as tmp:
        results = [run(kind, args, Path(tmp)) for kind in args.db.split(",")]
    rows = [row(r) for r in results]
    print(table(list(rows[0]), [list(r.values()) for r in rows]))
    print(write_results("declare_to_page", {"interval_s": args.interval, "results": results}))
    return 0 if all(r["all_arrived"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
