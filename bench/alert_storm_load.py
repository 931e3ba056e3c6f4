"""The load of `bench.alert_storm`: its config (20 services over 10 areas) and its
Alertmanager notifications, built like the real ones.

Every body is a copy of a notification captured from Alertmanager
(tests/integrations/payloads/alertmanager_grouped.json, its keys in Alertmanager's
order, compact as Go writes it) with the group's own labels, alerts and fingerprints.
A group is one `alertname` of one service (Alertmanager's `group_by: [alertname,
service]`): its first notification, then repeats (the group's alerts so far, half the
time with one more instance firing: Alertmanager's next `group_interval`), then for
some a resolved notification (every alert resolved, `endsAt` set), and a few bodies
posted twice, as Alertmanager retries after a timeout.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "tests" / "integrations" / "payloads" / "alertmanager_grouped.json"
AREAS = 10
SERVICES = 20  # two per area
ANCHOR = "2026-01-05T09:00:00+00:00"
NOT_ENDED = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's endsAt of a firing alert
Kind = Literal["new", "repeat", "resolved", "retry"]


def service(i: int) -> str:
    """The name of service `i`."""
    return f"svc-{i:02d}"


def area_of(i: int) -> str:
    """The area of service `i`."""
    return f"area-{i // (SERVICES // AREAS):02d}"


def write_config(folder: Path) -> Path:
    """The bench config in `folder`: the e2e config's policies, ten areas, each with a
    team on a two-person weekly rotation and an accountable lead, and 20 services."""
    lines = [
        "sprint: {length: 14d, anchor: 2026-01-05}",
        "channels: {announcements: C0ANNOUNCE, backlog: C0BACKLOG}",
        "severities:",
        "  P0: {name: Total outage, respond_within: 15m, notify: everyone, update_every: 15m}",
        "  P1: {name: Core failure, respond_within: 1h, notify: owning_team, update_every: 30m}",
        "  P2: {name: Partial issue, respond_within: 4h, notify: owner, update_every: 4h}",
        "  P3: {name: Minor issue, respond_within: next_sprint, notify: backlog}",
        "escalation: {levels: [responsible, accountable, everyone], every: respond_within}",
        "teams:",
    ]
    for a in range(AREAS):
        pair = f"[U0T{a:02d}A, U0T{a:02d}B]"
        rotation = f"{{rotation: {pair}, every: 7d, anchor: '{ANCHOR}'}}"
        lines.append(f"  team-{a:02d}: {{name: Team {a}, members: {pair}, oncall: {rotation}}}")
    lines.append("areas:")
    for a in range(AREAS):
        lines.append(
            f"  area-{a:02d}: {{name: Area {a}, covers: Bench, responsible: team-{a:02d}, "
            f"accountable: U0T{a:02d}LEAD}}"
        )
    lines.append("services:")
    lines += [f"  {service(i)}: {{area: {area_of(i)}}}" for i in range(SERVICES)]
    path = folder / "alert_storm.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class Post:
    """One POST to /hooks/alertmanager: when (s after the start), what, of which group."""

    at: float
    body: bytes
    group: int
    kind: Kind
    service: int
    firing: bool


@dataclass
class Load:
    """The posts in time order, and what firebell must end up keeping."""

    posts: list[Post]
    fingerprints: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)


@dataclass
class _Group:
    number: int
    service: int
    name: str
    severity: str
    first: float
    instances: int
    events: list[tuple[float, Kind]] = field(default_factory=list)


def build(notifications: int, window: float, *, start: datetime, seed: int) -> Load:
    """`notifications` distinct bodies over `window` s (60 % first notifications of
    new groups, 30 % repeats, 10 % resolved), plus 1 % of them posted twice."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible load, not a secret
    count = round(notifications * 0.6)
    groups = [
        _Group(
            number=g,
            service=g % SERVICES,
            name=f"BenchAlert{g // SERVICES:03d}",
            severity="critical" if (g // SERVICES) % 3 == 0 else "error",
            first=rng.uniform(0, window * 2 / 3),
            instances=rng.randint(1, 3),
        )
        for g in range(count)
    ]
    early = [g for g in groups if g.first < window * 0.75]
    for _ in range(round(notifications * 0.3)):
        group = rng.choice(early)
        group.events.append((min(window * 0.85, group.first + rng.uniform(2, 10)), "repeat"))
    for group in rng.sample(early, round(notifications * 0.1)):
        last = max([group.first, *(at for at, _ in group.events)])
        group.events.append((min(window * 0.98, last + rng.uniform(1, 5)), "resolved"))
    load = Load(posts=[])
    for group in groups:
        load.posts += _posts(group, start, rng, load)
    for post in rng.sample(load.posts, max(1, round(notifications * 0.01))):
        load.posts.append(replace(post, at=post.at + rng.uniform(0.2, 1.0), kind="retry"))
    load.posts.sort(key=lambda p: p.at)
    return load


def _posts(group: _Group, start: datetime, rng: random.Random, load: Load) -> list[Post]:
    out = [_post(group, group.first, "new", start, load, ended=None)]
    for at, kind in sorted(group.events):
        if kind == "repeat" and rng.random() < 0.5:
            group.instances += 1
        ended = start.timestamp() + at if kind == "resolved" else None
        out.append(_post(group, at, kind, start, load, ended=ended))
    return out


def _post(
    group: _Group, at: float, kind: Kind, start: datetime, load: Load, *, ended: float | None
) -> Post:
    template: dict[str, Any] = json.loads(TEMPLATE.read_text())
    name, svc = group.name, service(group.service)
    common = {"alertname": name, "service": svc, "severity": group.severity}
    summary = {"summary": f"{name} on {svc}: error ratio over 5 % <!channel>"}
    status = "firing" if ended is None else "resolved"
    alerts = []
    for n in range(group.instances):
        labels = {**common, "instance": f"10.0.{group.number % 250}.{n + 1}:8080"}
        alert = dict(template["alerts"][0])
        fingerprint = _fingerprint(labels)
        alert.update(
            status=status,
            labels=dict(sorted(labels.items())),
            annotations=summary,
            startsAt=_go_time(start.timestamp() - 60),
            endsAt=NOT_ENDED if ended is None else _go_time(ended),
            fingerprint=fingerprint,
        )
        alerts.append(alert)
        load.fingerprints.add(fingerprint)
        if ended is not None:
            load.resolved.add(fingerprint)
    body = dict(template)
    body.update(
        status=status,
        alerts=alerts,
        groupLabels={"alertname": name, "service": svc},
        commonLabels=dict(sorted(common.items())),
        commonAnnotations=summary,
        groupKey=f'{{}}:{{alertname="{name}", service="{svc}"}}',
    )
    raw = json.dumps(body, separators=(",", ":")).encode()
    return Post(at, raw, group.number, kind, group.service, firing=ended is None)


def _fingerprint(labels: dict[str, str]) -> str:
    """16 hex digits over the sorted label set, like Alertmanager's (FNV-64a there)."""
    text = "\xff".join(f"{k}\xff{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _go_time(at: float) -> str:
    """A time as Alertmanager writes it (RFC 3339, nanoseconds, Z)."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"
