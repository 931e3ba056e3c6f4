"""An alert storm: 1,000 Alertmanager notifications in 60 s against Slack's rate limits.

Per database: a fresh fake Slack (`bench.common.TimedFake`) enforcing Slack's
per-method tiers and per-channel post limit at real speed (`RateLimits(scale=1)`), a
fresh database, `firebell serve` as its own process with production tuning and the
bench config (`bench.alert_storm_load`: 20 services over 10 areas). Then the load: 600
groups over the 20 services, 300 repeats, 100 resolved later, 1 % of the bodies posted
twice (Alertmanager's retry), each POSTed to /hooks/alertmanager at its time (an open
loop: a slow answer delays nothing else).

Measured: each answer (status, time); from the database, the notifications and alerts
kept (against the distinct bodies and fingerprints sent) and the incidents opened; per
area, from the first notification naming one of its services to the first page DM of
its Responsible on-call stored by the fake (DMs matched to `page` outbox rows by the
row id in their metadata); and the calls the fake answered 429, by method.

The bound: the least time any client could take under the same limits. A page DM
needs `conversations.open` (Tier 3: 50 calls in any minute) for a person not yet
DMed, then one `chat.postMessage` into the new IM (limited per channel: nothing
before it there). So an ideal client opens the DMs of everyone paged in the order
their first alert arrived, 50 in any minute, and the tiers delay the n-th only when
50 were opened in the minute before it. Both calls also take Slack's time, which the
fake does not: `CALLS_S` (two calls of ~250 ms, a round trip to Slack) is added, so
that a bound is never zero. Target: every alert kept exactly once, every notification
answered 2xx within 1 s, every area's on-call paged within 2x its bound and 30 s.

Run: `python -m bench.alert_storm [--quick] [--db sqlite|postgresql|both]`.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func
from sqlmodel import col, select

from bench.alert_storm_load import Load, Post, area_of, build, write_config
from bench.common import TimedFake, database, quantile, serving, table, wait_until, write_results
from bot.config.load import load_config
from bot.config.model import Config
from bot.core.raci import who_to_page, who_to_page_at_level
from bot.sandbox.ratelimits import METHOD_TIERS, MINUTE, PER_MINUTE, RateLimits
from bot.sandbox.seed import seed
from bot.store.db import normalise_url
from bot.store.tables import Alert, AlertNotification, Incident, OutboxMessage

ANSWER_BAR_S = 1.0
PAGE_BAR_S = 30.0
BOUND_FACTOR = 2.0
CALLS_S = 0.5  # conversations.open + chat.postMessage at ~250 ms each
OPENS_PER_MINUTE = PER_MINUTE[METHOD_TIERS["conversations.open"] or 3]
PATIENCE_S = 90.0  # after the last post, for the pages still on their way
Answer = tuple[Post, float, int, float, bool]  # post, sent (wall), status, seconds, duplicate


async def _send(base: str, token: str, load: Load) -> list[Answer]:
    """POST every body at its time; return each answer."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=30, limits=limits
    ) as client:
        start = time.monotonic()

        async def one(post: Post) -> Answer:
            await asyncio.sleep(max(0.0, start + post.at - time.monotonic()))
            sent, began = time.time(), time.monotonic()
            try:
                response = await client.post("/hooks/alertmanager", content=post.body)
            except httpx.HTTPError:
                return post, sent, 0, time.monotonic() - began, False
            took = time.monotonic() - began
            duplicate = response.status_code == 200 and bool(response.json().get("duplicate"))
            return post, sent, response.status_code, took, duplicate

        return list(await asyncio.gather(*(one(post) for post in load.posts)))


def page_rows(engine: Engine) -> list[tuple[int, str, datetime]]:
    """(outbox row id, user, created) of every page queued so far."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(col(OutboxMessage.id), col(OutboxMessage.payload), OutboxMessage.created_at)
            .where(col(OutboxMessage.kind) == "page")
            .order_by(col(OutboxMessage.id))
        )
        return [(int(r), str(p["user"]), c) for r, p, c in rows if r is not None]


def kept(engine: Engine) -> dict[str, Any]:
    """What the database holds: notifications, alerts, incidents."""
    with engine.connect() as connection:
        notes = connection.execute(
            select(func.count(), func.count(func.distinct(col(AlertNotification.body_hash))))
        ).one()
        outcomes = connection.execute(
            select(col(AlertNotification.outcome), func.count()).group_by(
                col(AlertNotification.outcome)
            )
        ).all()
        alerts = connection.execute(select(col(Alert.fingerprint), col(Alert.status))).all()
        origins = connection.execute(
            select(col(Incident.origin), func.count()).group_by(col(Incident.origin))
        ).all()
    return {
        "notifications": int(notes[0]),
        "distinct_bodies": int(notes[1]),
        "outcomes": {str(o): int(n) for o, n in outcomes},
        "alerts": [(str(f), str(s)) for f, s in alerts],
        "incidents": {str(o): int(n) for o, n in origins},
    }


def open_times(triggers: Mapping[str, float]) -> dict[str, float]:
    """When an ideal client can open each person's DM, in the order they are needed:
    at their trigger, unless `OPENS_PER_MINUTE` opens fill the minute before."""
    opened: list[float] = []
    out: dict[str, float] = {}
    for user, needed in sorted(triggers.items(), key=lambda item: item[1]):
        at = needed
        if len(opened) >= OPENS_PER_MINUTE:
            at = max(needed, opened[-OPENS_PER_MINUTE] + MINUTE)
        out[user] = at
        opened.append(at)
    return out


def per_area(
    config: Config,
    answers: list[Answer],
    pages: list[tuple[int, str, datetime]],
    dm_at: Mapping[int, list[float]],
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Per affected area: its first alert, its Responsible on-call's first page DM and
    the rate-limit bound for it."""
    first: dict[str, float] = {}
    for post, sent, *_ in answers:
        if post.firing:
            area = area_of(post.service)
            first[area] = min(first.get(area, sent), sent)
    triggers: dict[str, float] = {}
    for area, at in first.items():
        for page in who_to_page(config, area, "everyone", now):
            triggers[page.user] = min(triggers.get(page.user, at), at)
    for _, user, created in pages:  # paged otherwise: needed from when it was queued
        triggers.setdefault(user, created.replace(tzinfo=UTC).timestamp())
    ideal = open_times(triggers)
    out = {}
    for area, at in sorted(first.items()):
        responsible = who_to_page_at_level(config, area, "responsible", now)[0].user
        dms = [min(dm_at[row]) for row, user, _ in pages if user == responsible and row in dm_at]
        bound = ideal[responsible] - at + CALLS_S
        out[area] = {
            "responsible": responsible,
            "paged_s": round(min(dms) - at, 2) if dms else None,
            "bound_s": round(bound, 2),
        }
    return out


def run(kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One database: the storm, the pages, then what was kept."""
    config_path = write_config(folder)
    config = load_config(config_path)
    token = secrets.token_urlsafe(24)
    fake = TimedFake(rate_limits=RateLimits(scale=1.0))
    with fake, database(kind, folder) as url:
        seed(fake, config)
        runbooks = folder / "runbooks"  # the shipped ones name the e2e config's teams
        runbooks.mkdir(exist_ok=True)
        served = serving(fake, url, folder, config_path, runbooks, FIREBELL_WEBHOOK_TOKEN=token)
        with served as (_, base):
            start = datetime.now(UTC)
            load = build(args.notifications, args.window, start=start, seed=args.seed)
            answers = asyncio.run(_send(base, token, load))
            engine = create_engine(normalise_url(url))
            try:
                responsible = {
                    who_to_page_at_level(config, area_of(p.service), "responsible", start)[0].user
                    for p in load.posts
                }
                wait_until(
                    lambda: responsible <= {u for r, u, _ in page_rows(engine) if r in fake.dm_at},
                    PATIENCE_S,
                )
                pages = page_rows(engine)
                stored = kept(engine)
            finally:
                engine.dispose()
        throttled = Counter(c.method for c in fake.calls if c.status == 429)
    areas = per_area(config, answers, pages, fake.dms(), start)
    found = summarise(kind, load, answers=answers, stored=stored, areas=areas, pages=pages)
    return {**found, "slack_429": dict(throttled)}


def summarise(
    kind: str,
    load: Load,
    *,
    answers: list[Answer],
    stored: dict[str, Any],
    areas: dict[str, dict[str, Any]],
    pages: list[tuple[int, str, datetime]],
) -> dict[str, Any]:
    """The figures of one run."""
    took = [t for _, _, _, t, _ in answers]
    statuses = Counter(status for _, _, status, _, _ in answers)
    fingerprints = Counter(f for f, _ in stored["alerts"])
    status_of = dict(stored["alerts"])
    paged = [a["paged_s"] for a in areas.values() if a["paged_s"] is not None]
    bounds = [a["bound_s"] for a in areas.values()]
    return {
        "database": kind,
        "posts": len(load.posts),
        "distinct_bodies": len({p.body for p in load.posts}),
        "kinds": dict(Counter(p.kind for p in load.posts)),
        "answered": dict(statuses),
        "duplicates_answered": sum(d for *_, d in answers),
        "answer_s": {
            "p50": round(quantile(took, 0.5), 3),
            "p99": round(quantile(took, 0.99), 3),
            "max": round(max(took), 3),
        },
        "notifications_kept": stored["notifications"],
        "outcomes": stored["outcomes"],
        "alerts_sent": len(load.fingerprints),
        "alerts_kept": len(fingerprints),
        "alerts_kept_twice": sum(n > 1 for n in fingerprints.values()),
        "alerts_lost": len(load.fingerprints - set(fingerprints)),
        "resolved_not_marked": sum(status_of.get(f) != "resolved" for f in load.resolved),
        "incidents": stored["incidents"],
        "page_dms_queued": len(pages),
        "areas": areas,
        "paged_s": {
            "p50": round(quantile(paged, 0.5), 2) if paged else None,
            "p95": round(quantile(paged, 0.95), 2) if paged else None,
            "max": max(paged) if paged else None,
        },
        "bound_s": {"min": min(bounds), "max": max(bounds)} if bounds else {},
    }


def misses(r: dict[str, Any]) -> list[str]:
    """The bars a run missed, each with its measurement."""
    out = []
    if r["alerts_lost"] or r["alerts_kept_twice"] or r["alerts_kept"] != r["alerts_sent"]:
        out.append(f"alerts kept {r['alerts_kept']} of {r['alerts_sent']}")
    if r["notifications_kept"] != r["distinct_bodies"]:
        out.append(f"notifications kept {r['notifications_kept']} of {r['distinct_bodies']}")
    if set(r["answered"]) != {200}:
        out.append(f"answers {r['answered']}")
    if r["answer_s"]["max"] > ANSWER_BAR_S:
        out.append(f"slowest answer {r['answer_s']['max']} s")
    for area, a in r["areas"].items():
        bar = min(PAGE_BAR_S, BOUND_FACTOR * a["bound_s"])
        if a["paged_s"] is None or a["paged_s"] > bar:
            out.append(f"{area} paged after {a['paged_s']} s (bar {bar:g} s)")
    return out


def row(r: dict[str, Any]) -> list[object]:
    """A run's row of the printed table."""
    a, p, b = r["answer_s"], r["paged_s"], r["bound_s"]
    answered = sum(n for s, n in r["answered"].items() if 200 <= s < 300)
    return [
        r["database"],
        f"{answered}/{r['posts']} ({r['duplicates_answered']} dup)",
        f"{a['p50']} / {a['p99']} / {a['max']}",
        f"{r['alerts_kept']}/{r['alerts_sent']}",
        ", ".join(f"{k}: {n}" for k, n in sorted(r["incidents"].items())),
        f"{p['p50']} / {p['p95']} / {p['max']}",
        f"{b.get('min')}-{b.get('max')}",
        "yes" if not misses(r) else "NO",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write bench/results/alert_storm.json; 1 if a bar is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.alert_storm", description=__doc__)
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds to send them in")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="100 notifications in 10 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.notifications, args.window = 100, 10.0
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    with tempfile.TemporaryDirectory(prefix="firebell-bench-") as tmp:
        results = [run(kind, args, Path(tmp)) for kind in kinds]
    headers = [
        "database",
        "answered 2xx",
        "answer p50 / p99 / max s",
        "alerts kept",
        "incidents",
        "paged p50 / p95 / max s",
        "bound s",
        "met",
    ]
    print(table(headers, [row(r) for r in results]))
    for r in results:
        for miss in misses(r):
            print(f"{r['database']}: missed: {miss}")
    settings = {"notifications": args.notifications, "window_s": args.window, "seed": args.seed}
    print(write_results("alert_storm", {**settings, "results": results}))
    return 0 if not any(misses(r) for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
