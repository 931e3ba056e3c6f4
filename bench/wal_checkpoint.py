"""How long SQLite transactions take when the writer checkpoints, and when a thread does.

Each run makes a fresh SQLite database and sends `--transactions` bursts of `--batch`
declarations at once through group commit (as `/incident declare` requests arriving
together are), timing each burst from the first call to the last answer, in two
modes, interleaved over `--rounds`:

* `writer`: SQLite's default, the committing connection copies the log back into the
  database whenever it passes 1,000 pages (as firebell did before `WalCheckpointer`);
* `background`: firebell's `Store` as `firebell serve` runs it: the writer checkpoints
  only past `BACKSTOP_PAGES`, and `WalCheckpointer` runs passive checkpoints in a
  thread after commits.

Reported per mode (medians over rounds): burst p50 / p99 / max, how many took more
than twice the median, the CPU per declaration (this process, checkpoint thread
included), and the largest log file seen.

Run: `python -m bench.wal_checkpoint [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import load_bench_config, machine_facts, table, write_results
from bot.config.model import Config
from bot.incidents.declare import Declaration, declare
from bot.store.db import Store, make_engine
from bot.store.group import GroupCommit
from bot.store.migrate import upgrade

SQLITE_DEFAULT_AUTOCHECKPOINT = 1000
MODES = ("writer", "background")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.wal_checkpoint", description=__doc__)
    parser.add_argument("--transactions", type=int, default=1500, help="per run")
    parser.add_argument("--batch", type=int, default=8, help="declarations per transaction")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each mode")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 transactions, 1 round")
    parser.add_argument("--name", default="wal_checkpoint", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.transactions, args.rounds = 200, 1
    return args


def _store(path: Path, mode: str) -> Store:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    if mode == "writer":

        @event.listens_for(engine, "connect")
        def _writer_checkpoints(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SQLITE_DEFAULT_AUTOCHECKPOINT}")

        engine.dispose()  # reconnect with the listener in place
    store = Store(engine)
    if mode == "background":
        store.start_checkpoints()
    return store


def _log_size(database: Path) -> int:
    """Bytes in the database's write-ahead log file (a stat: too quick to hand off)."""
    return os.path.getsize(f"{database}-wal")


def run(mode: str, args: argparse.Namespace, config: Config, workdir: Path) -> dict[str, Any]:
    """One run: a fresh database, `args.transactions` timed group commits."""
    path = workdir / f"{mode}-{uuid.uuid4().hex[:8]}.db"
    store = _store(path, mode)
    group = GroupCommit(store)

    async def burst(k: int) -> float:
        """`args.batch` declarations at once: group commit gives them one transaction."""
        started = time.perf_counter()
        await asyncio.gather(
            *(
                group.run_with_info(
                    declare,
                    config,
                    Declaration(
                        title=f"Checkout answers are wrong {k}-{i}",
                        severity="P1",
                        declared_by="U0OTHER",
                        service="checkout-assistant",
                        request_key=uuid.uuid4().hex,
                    ),
                )
                for i in range(args.batch)
            )
        )
        return time.perf_counter() - started

    async def main() -> tuple[list[float], int, float]:
        for k in range(20):  # warm-up
            await burst(k)
        times: list[float] = []
        largest_log = 0
        cpu = time.process_time()
        for k in range(args.transactions):
            times.append(await burst(k))
            if k % 25 == 0:
                largest_log = max(largest_log, _log_size(path))
        cpu = time.process_time() - cpu
        await store.aclose()
        return times, largest_log, cpu

    times, largest_log, cpu = asyncio.run(main())
    transactions = group.batches
    checkpoints = store.checkpointer.runs if store.checkpointer else 0
    store.dispose()
    times.sort()
    median = times[len(times) // 2]
    return {
        "mode": mode,
        "p50_ms": round(median * 1000, 3),
        "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 3),
        "max_ms": round(times[-1] * 1000, 3),
        "slow_share": round(sum(t > 2 * median for t in times) / len(times), 4),
        "cpu_ms_per_declaration": round(cpu / (args.transactions * args.batch) * 1000, 4),
        "largest_log_mb": round(largest_log / 1e6, 1),
        "background_checkpoints": checkpoints,
        "declarations_per_transaction": round(group.jobs / max(transactions, 1), 2),
    }


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    config = load_bench_config()
    print(
        f"wal checkpoint: {args.rounds} round(s) x {args.transactions} transactions of "
        f"{args.batch} declarations, modes {', '.join(MODES)}"
    )
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="firebell-bench-wal-") as tmp:
        for round_no in range(1, args.rounds + 1):
            for mode in MODES:
                figures = {"round": round_no, **run(mode, args, config, Path(tmp))}
                runs.append(figures)
                print(
                    f"  round {round_no} {mode:<10} p50 {figures['p50_ms']:.2f} ms  "
                    f"p99 {figures['p99_ms']:.2f} ms  max {figures['max_ms']:.1f} ms  "
                    f"slow {figures['slow_share']:.1%}  log {figures['largest_log_mb']} MB",
                    flush=True,
                )
    keys = ("p50_ms", "p99_ms", "max_ms", "slow_share", "cpu_ms_per_declaration",
            "largest_log_mb")
    summary = {
        mode: {k: statistics.median(r[k] for r in runs if r["mode"] == mode) for k in keys}
        for mode in MODES
    }
    print()
    print(
        table(
            ["checkpoints by", "p50 ms", "p99 ms", "max ms", "> 2x p50", "CPU ms/decl",
             "largest log MB"],
            [
                [mode, f"{s['p50_ms']:.2f}", f"{s['p99_ms']:.2f}", f"{s['max_ms']:.1f}",
                 f"{s['slow_share']:.1%}", f"{s['cpu_ms_per_declaration']:.3f}",
                 f"{s['largest_log_mb']:.1f}"]
                for mode, s in summary.items()
            ],
        )
    )
    path = write_results(
        args.name,
        {"machine": machine_facts(), "parameters": vars(args), "runs": runs, "summary": summary},
    )
    print(f"\nwrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
