"""Escalation at scale: 10,000 deadlines due within 60 s, each fired exactly once.

Runs: `sqlite-1` (one `firebell serve`), `pg-3` (three on one PostgreSQL database),
`pg-3-kill` (three, one SIGKILLed a third into the window, restarted 5 s later), each
with a fresh fake Slack (`bench.common.TimedFake`) and database. Each incident has an
area of its own, levels [responsible, accountable] and `repeat_last: 0`: one escalation
step, a DM to a person nobody else pages (DMs to one person are paced at ~1 a second).
Once the processes are up, the incidents are inserted directly (declaring 10,000
through the use case takes ~40 s) as a declaration leaves them: open, with a channel
the fake has and one pending `escalate` row, but no declaration outbox rows (their
backlog would be delivered during the window and measured instead). The rows come due
evenly over the window, starting 15 s later (the processes' poll finds them in 5 s).

Checked per incident: fired, one `escalated` entry, one `page` row to the area's
accountable person, one DM at the fake. Lateness = `fired_at - due_at` (the claiming
transaction's database time). Catch-up (kill run): when the last row due during the
outage fired, from the restart (negative: the survivors had it before). Bars: all
exactly once, lateness p99 <= 100 ms, catch-up <= 10 s.

Run: `python -m bench.escalation [--quick] [--runs sqlite-1,pg-3,pg-3-kill]`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.common import (
    DECLARER,
    E2E_CONFIG,
    TimedFake,
    database,
    rss_mib,
    serving,
    spread,
    table,
    wait_until,
    write_results,
)
from bot.config.load import load_config
from bot.incidents.escalation import ESCALATE
from bot.sandbox.seed import seed
from bot.store.db import normalise_url
from bot.store.deadlines import incident_key
from bot.store.tables import Deadline, Incident, OutboxMessage, TimelineEntry

RUNS = {
    "sqlite-1": ("sqlite", 1, False),
    "pg-3": ("postgresql", 3, False),
    "pg-3-kill": ("postgresql", 3, True),
}
P99_BAR_MS = 100.0
CATCH_UP_BAR_S = 10.0
LEAD_S = 15.0
OUTAGE_S = 5.0
# Bounds of the waits after the window: long enough that a late deadline or a delivery
# backlog (or a killed process's outbox leases, 60 s) shows as lateness, not as loss.
FIRING_WAIT_S = 120.0
DRAIN_WAIT_S = 300.0


def incident_channel(i: int) -> tuple[str, str]:
    """The name and ID of incident `i`'s channel (incident numbers start at 1)."""
    return f"inc-{i + 1}-escalation-bench", f"CINC{i:05d}"


def person(role: str, area: str) -> str:
    """The user ID of `area`'s responsible (`R`) or accountable (`A`) person."""
    return f"U{role}{area[1:]}"


def write_config(folder: Path, count: int) -> Path:
    """The e2e config with an area per incident and one escalation step."""
    data = yaml.safe_load(E2E_CONFIG.read_text())
    del data["teams"], data["services"]
    data["escalation"] = {"levels": ["responsible", "accountable"], "repeat_last": 0}
    names = [f"a{i:05d}" for i in range(count)]
    data["areas"] = {
        a: {"name": a, "responsible": person("R", a), "accountable": person("A", a)} for a in names
    }
    path = folder / "escalation.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def insert_incidents(engine: Engine, count: int, first_due: datetime, window: float) -> None:
    """Open incidents, one per area, each with its escalation step pending, due evenly
    over [first_due, first_due + window]."""
    now = datetime.now(UTC)
    due = [first_due + timedelta(seconds=window * i / count) for i in range(count)]
    incidents = [
        Incident(
            number=i + 1,
            title=f"Escalation bench {i}",
            severity="P1",
            area=f"a{i:05d}",
            area_name=f"a{i:05d}",
            declared_by=DECLARER,
            declared_at=now,
            response_deadline=due[i],
            channel_name=incident_channel(i)[0],
            channel_id=incident_channel(i)[1],
        ).model_dump(exclude={"id"})
        for i in range(count)
    ]
    step = {"step": 2, "level": "accountable", "repeat": 0}  # what schedule_next_step writes
    with engine.begin() as connection:
        connection.execute(insert(Incident), incidents)
        numbered = connection.execute(select(col(Incident.number), col(Incident.id)))
        ids = {number: i for number, i in numbered if i is not None}
        rows = [
            Deadline(
                key=incident_key(ids[i + 1], ESCALATE),
                kind=ESCALATE,
                incident_id=ids[i + 1],
                due_at=due[i],
                data=step,
            ).model_dump(exclude={"id"})
            for i in range(count)
        ]
        connection.execute(insert(Deadline), rows)


def left(engine: Engine) -> tuple[int, int]:
    """(deadlines not fired yet, outbox rows not delivered yet)."""
    with engine.connect() as connection:
        unfired = select(func.count()).where(col(Deadline.fired_at).is_(None))
        undone = select(func.count()).where(col(OutboxMessage.done).is_(False))
        return int(connection.scalar(unfired) or 0), int(connection.scalar(undone) or 0)


def sleep_until(moment: datetime) -> None:
    """Sleep until wall-clock `moment`."""
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def verify(
    engine: Engine, fake: TimedFake, outage: tuple[datetime, datetime] | None
) -> dict[str, Any]:
    """Read the database and the fake: exactly once, one DM each, lateness, catch-up;
    `outage` is when the victim was killed and when its successor was started."""
    with engine.connect() as connection:
        deadlines = connection.execute(select(Deadline)).all()
        pages = connection.execute(select(OutboxMessage).where(col(OutboxMessage.kind) == "page"))
        entries = select(col(TimelineEntry.incident_id)).where(
            col(TimelineEntry.kind) == "escalated"
        )
        escalated = collections.Counter(connection.execute(entries).scalars())
        incidents = connection.execute(select(Incident)).all()
        paged: dict[int, list[Any]] = collections.defaultdict(list)
        for page in pages:
            paged[page.incident_id].append(page)
    dm_at = fake.dms()
    steps: dict[int, list[Any]] = collections.defaultdict(list)
    for deadline in deadlines:
        steps[deadline.incident_id].append(deadline)
    once = sum(
        [d.fired_at is not None for d in steps[n.id]] == [True]
        and escalated[n.id] == 1
        and [p.payload["user"] for p in paged[n.id]] == [person("A", n.area)]
        for n in incidents
    )
    arrived = {i: [t for p in paged[i] for t in dm_at.get(p.id, [])] for i in paged}
    dm_late = [(min(t) - steps[i][0].due_at.timestamp()) * 1000 for i, t in arrived.items() if t]
    fired = [d for d in deadlines if d.fired_at is not None]
    result: dict[str, Any] = {
        "incidents": len(incidents),
        "fired": len(fired),
        "fired_once": once,
        "one_dm_each": sum(len(times) == 1 for times in arrived.values()),
        "dms_at_fake": sum(len(times) for times in dm_at.values()),
        "lateness_ms": spread([(d.fired_at - d.due_at).total_seconds() * 1000 for d in fired]),
        "dm_lateness_ms": spread(dm_late),
        "fired_by": collections.Counter(d.fired_by for d in fired),
    }
    if outage is not None:
        killed, restarted = outage
        during = [d.fired_at for d in deadlines if killed <= d.due_at <= restarted]
        result["due_in_outage"] = len(during)
        if during and None not in during:
            result["catch_up_s"] = round((max(during) - restarted).total_seconds(), 2)
    return result


def run(name: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One run: fresh fake and database, the processes, the window, the checks."""
    kind, replicas, kill = RUNS[name]
    config = write_config(folder, args.deadlines)
    outage: tuple[datetime, datetime] | None = None
    peak_mib: list[float] = []
    fake = TimedFake()
    with (
        fake,
        database(kind, folder) as url,
        contextlib.ExitStack() as stack,
    ):
        seed(fake, load_config(config))
        for i in range(args.deadlines):
            channel, channel_id = incident_channel(i)
            fake.add_channel(channel, channel_id=channel_id)
        live = [stack.enter_context(serving(fake, url, folder, config)) for _ in range(replicas)]
        # Plain transactions: firebell's SQLite engine takes the write lock at BEGIN.
        engine = create_engine(normalise_url(url))
        stack.callback(engine.dispose)
        first_due = datetime.now(UTC) + timedelta(seconds=LEAD_S)
        insert_incidents(engine, args.deadlines, first_due, args.window)
        if datetime.now(UTC) > first_due:
            raise RuntimeError(f"inserting took longer than the {LEAD_S:g} s lead")
        if kill:
            sleep_until(first_due + timedelta(seconds=args.window / 3))
            victim = live.pop(0)[0]
            peak_mib.append(rss_mib(victim.pid))
            victim.kill()
            killed = datetime.now(UTC)
            victim.wait(timeout=10)
            time.sleep(OUTAGE_S)
            outage = (killed, datetime.now(UTC))
            live.append(stack.enter_context(serving(fake, url, folder, config)))
        sleep_until(first_due + timedelta(seconds=args.window))
        wait_until(lambda: left(engine)[0] == 0, timeout=FIRING_WAIT_S)
        wait_until(lambda: left(engine)[1] == 0, timeout=DRAIN_WAIT_S)
        peak_mib += [rss_mib(process.pid) for process, _ in live]
        result = verify(engine, fake, outage)
    errors = sum(log.read_text().count("Traceback") for log in folder.glob("serve-*.log"))
    n, late = args.deadlines, result["lateness_ms"]
    met = result["fired_once"] == result["one_dm_each"] == result["dms_at_fake"] == n
    met = met and late.get("p99", float("inf")) <= P99_BAR_MS
    if kill:
        met = met and result.get("catch_up_s", float("inf")) <= CATCH_UP_BAR_S
    return {
        "run": name,
        **result,
        "peak_rss_mib": round(max(peak_mib), 1),
        "tracebacks_in_logs": errors,
        "meets_bars": met,
    }


def row(r: dict[str, Any]) -> dict[str, object]:
    """A run's row of the printed table, by column."""
    return {
        "run": r["run"],
        "fired": f"{r['fired']}/{r['incidents']}",
        "exactly once": r["fired_once"],
        "one DM each": f"{r['one_dm_each']} ({r['dms_at_fake']} DMs)",
        "lateness p50 / p99 / max ms": " / ".join(str(v) for v in r["lateness_ms"].values()),
        "DM p50 / p99 ms": " / ".join(str(r["dm_lateness_ms"].get(q)) for q in ("p50", "p99")),
        "catch-up s (due in outage)": f"{r.get('catch_up_s', '-')} ({r.get('due_in_outage', '-')})",
        "peak RSS MiB": r["peak_rss_mib"],
        "tracebacks": r["tracebacks_in_logs"],
        "bars met": r["meets_bars"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write bench/results/escalation.json; 1 if a bar is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.escalation", description=__doc__)
    parser.add_argument("--deadlines", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds they come due over")
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--quick", action="store_true", help="300 deadlines over 15 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.deadlines, args.window = 300, 15.0
    results = []
    with tempfile.TemporaryDirectory(prefix="firebell-bench-") as tmp:
        for name in args.runs.split(","):
            folder = Path(tmp) / name
            folder.mkdir()
            results.append(run(name, args, folder))
    rows = [row(r) for r in results]
    print(table(list(rows[0]), [list(r.values()) for r in rows]))
    window = {"deadlines": args.deadlines, "window_s": args.window}
    name = "escalation_quick" if args.quick else "escalation"
    print(write_results(name, {**window, "results": results}))
    return 0 if all(r["meets_bars"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
