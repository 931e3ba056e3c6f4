"""How fast firebell acks `/incident declare`: throughput, p50 and p99 at concurrency 8.

Per database: a fresh fake Slack and database, `firebell serve` as its own process,
`--warmup` unmeasured declarations, then `--requests` measured ones, each a signed
slash command with its own trigger_id, sent by `--concurrency` connections in a closed
loop. The fake Slack delivers for real meanwhile (each declaration queues about ten
Slack calls), answering each call after `--slack-latency` seconds as Slack's Web API
does (0 s by default: delivery competes for the CPU at a rate no Slack
allows). Afterwards every request must have declared exactly one incident, and the
numbers must be gapless. Bars: p99 <= 50 ms; >= 300/s on SQLite, >= 200/s on
PostgreSQL.

Run: `python -m bench.ack_path [--quick] [--db sqlite,postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from bench.common import DECLARER, database, declare_form, quantile, serving, table, write_results
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store, make_engine
from bot.store.tables import Incident

BARS = {"sqlite": 300.0, "postgresql": 200.0}
P99_BAR_MS = 50.0
TEXT = "declare P1 Checkout answers are wrong {i} service:checkout-assistant"


async def load(url: str, start: int, count: int, concurrency: int) -> list[float]:
    """Send `count` declarations numbered from `start` over `concurrency` keep-alive
    connections; return each one's latency (s).

    Requests are signed and serialised before the clock starts, and written to plain
    sockets: an HTTP client library costs more CPU per request than firebell's own
    parsing, on the same two cores.
    """
    host, port = url.removeprefix("http://").split(":")
    requests = iter([raw_request(i, host, int(port)) for i in range(start, start + count)])
    latencies: list[float] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for request in requests:
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                if not head.startswith(b"HTTP/1.1 200") or b"declared" not in body:
                    raise RuntimeError(f"a declaration failed: {head!r} {body!r}")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies


def raw_request(i: int, host: str, port: int) -> bytes:
    """Declaration `i` as the bytes of one HTTP/1.1 request."""
    body, headers = declare_form(i, f"bench.{i}", text=TEXT.format(i=i))
    headers |= {"Host": f"{host}:{port}", "Content-Length": str(len(body))}
    head = "POST /slack/events HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


def declared_once(database_url: str, total: int) -> bool:
    """Every request declared one incident, numbered 1..total without a gap."""
    store = Store(make_engine(database_url))
    try:
        count, top, keys = store.call(
            lambda s: s.execute(
                select(
                    func.count(),
                    func.max(Incident.number),
                    func.count(func.distinct(col(Incident.request_key))),
                )
            ).one()
        )
    finally:
        store.dispose()
    return bool(count == top == keys == total)


def run(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """One database: warm up, measure, verify."""
    with FakeSlack() as fake, database(kind, folder) as url:
        fake.latency = args.slack_latency
        for user in ("U01ML1", "U01ML2", "U01MLLEAD", "U01DA1", "U01PR1", DECLARER):
            fake.add_user(user, user.lower())
        fake.add_channel("announce", channel_id="C0ANNOUNCE")
        fake.add_channel("product", channel_id="C0PRODUCT")
        with serving(fake, url, folder) as (_, base):
            asyncio.run(load(base, 0, args.warmup, args.concurrency))
            began = time.perf_counter()
            latencies = asyncio.run(load(base, args.warmup, args.requests, args.concurrency))
            elapsed = time.perf_counter() - began
        once = declared_once(url, args.warmup + args.requests)
    rate = args.requests / elapsed
    p99 = quantile(latencies, 0.99) * 1000
    return {
        "database": kind,
        "requests": args.requests,
        "per_second": round(rate),
        "p50_ms": round(quantile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(p99, 1),
        "exactly_once": once,
        "meets_bars": once and rate >= BARS[kind] and p99 <= P99_BAR_MS,
    }


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write bench/results/ack_path.json; 1 if a bar is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.ack_path", description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--slack-latency", type=float, default=0.0, help="seconds per Slack call")
    parser.add_argument("--quick", action="store_true", help="300 requests, 30 warm-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup = 300, 30
    with tempfile.TemporaryDirectory(prefix="firebell-bench-") as tmp:
        results = [run(kind, args, Path(tmp)) for kind in args.db.split(",")]
    print(
        table(
            ["database", "declarations/s", "p50 ms", "p99 ms (<= 50)", "exactly once", "bars met"],
            [
                [
                    r["database"],
                    f"{r['per_second']} (>= {BARS[str(r['database'])]:.0f})",
                    r["p50_ms"],
                    r["p99_ms"],
                    r["exactly_once"],
                    r["meets_bars"],
                ]
                for r in results
            ],
        )
    )
    settings = {"concurrency": args.concurrency, "slack_latency": args.slack_latency}
    print(write_results("ack_path", {**settings, "results": results}))
    return 0 if all(r["meets_bars"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
