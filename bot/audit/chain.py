"""The audit hash chain, as plain values: how a record is hashed, and how a chain is
checked.

Each record's hash covers its fields and the hash of the record before it (`prev_hash`),
so changing a record breaks its own hash, and deleting one breaks the sequence. The
chain starts after an anchor (the last pruned record's seq and hash, or 0 and "" before
any pruning) and ends at the head kept in its own row: a deleted last record shows as a
head the records do not reach. `verify` returns the first problem as a value; wording it
is the reader's business (`bot.audit.render`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Link:
    """One audit record as the chain sees it (every hashed field, and the hash)."""

    seq: int
    at: datetime
    actor: str
    action: str
    object: str
    source: str
    outcome: str
    incident_id: int | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Point:
    """A place in the chain: a record's seq and hash (the anchor, or the head)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Changed:
    """Record `seq` does not hash to what it holds, or does not follow the one before."""

    seq: int


@dataclass(frozen=True)
class Missing:
    """Records after `after` and before `before` (exclusive) are gone."""

    after: int
    before: int


@dataclass(frozen=True)
class HeadMismatch:
    """The chain's head says `head`, but the records end at `last` (the anchor when none
    is kept): the last records were deleted, or the head was changed."""

    head: Point
    last: Point


@dataclass(frozen=True)
class HeadRecreated:
    """The chain's head row went missing and an append rebuilt it from the records kept,
    resuming after seq `resumed_from` (its `audit.head_recreated` record says so):
    records after that one, or before the first kept, may have been deleted with it."""

    resumed_from: int


Problem = Changed | Missing | HeadMismatch | HeadRecreated
HEAD_RECREATED = "audit.head_recreated"  # the action of the record an append writes then


@dataclass(frozen=True)
class Walked:
    """How far a walk of the chain got: the last record it reached intact, and the
    first problem (a break stops the walk; a rebuilt head does not)."""

    last: Point
    problem: Problem | None


def problem_facts(problem: Problem) -> dict[str, Any]:
    """The problem as plain facts to keep (in a prune's audit record)."""
    if isinstance(problem, Changed):
        return {"problem": "changed", "seq": problem.seq}
    if isinstance(problem, Missing):
        return {"problem": "missing", "after": problem.after, "before": problem.before}
    if isinstance(problem, HeadRecreated):
        return {"problem": "head_recreated", "resumed_from": problem.resumed_from}
    return {"problem": "head_mismatch", "head": problem.head.seq, "last": problem.last.seq}


def normal_detail(detail: Mapping[Any, Any] | None) -> dict[str, Any]:
    """The detail as the database gives it back (JSON's types: string keys, lists), so a
    record hashes the same before it is written and after it is read."""
    normal: dict[str, Any] = json.loads(json.dumps(detail or {}, default=str))
    return normal


def iso_utc(at: datetime) -> str:
    """`at` in UTC, ISO 8601 with microseconds (what both databases keep)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def hashed_fields(link: Link) -> dict[str, Any]:
    """Every field of a record the hash covers (all but the hash), `at` in ISO UTC."""
    return {
        "seq": link.seq,
        "at": iso_utc(link.at),
        "actor": link.actor,
        "action": link.action,
        "object": link.object,
        "source": link.source,
        "outcome": link.outcome,
        "incident_id": link.incident_id,
        "detail": link.detail,
        "prev_hash": link.prev_hash,
    }


def canonical(link: Link) -> bytes:
    """The bytes a record's hash covers: sorted-key JSON of `hashed_fields`."""
    fields = hashed_fields(link)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def hash_of(link: Link) -> str:
    """The sha256 (hex) of the record's canonical form."""
    return hashlib.sha256(canonical(link)).hexdigest()


def walk(links: Iterable[Link], anchor: Point) -> Walked:
    """Walk the chain from `anchor` through `links` (the kept records in seq order, read
    once and not kept: a trail of years streams through), stopping at the first break.

    A record saying the head was rebuilt is a problem too, but the walk goes on past it,
    so a break after it is still the one reported.
    """
    before = anchor
    rebuilt: HeadRecreated | None = None
    for link in links:
        if link.seq <= before.seq:
            return Walked(before, Changed(link.seq))
        if link.seq != before.seq + 1:
            return Walked(before, Missing(before.seq, link.seq))
        if link.prev_hash != before.hash or hash_of(link) != link.hash:
            return Walked(before, Changed(link.seq))
        if rebuilt is None and link.action == HEAD_RECREATED and link.outcome == "failed":
            rebuilt = HeadRecreated(link.seq - 1)
        before = Point(link.seq, link.hash)
    return Walked(before, rebuilt)


def verify(links: Iterable[Link], anchor: Point, head: Point) -> Problem | None:
    """The first problem in the chain from `anchor` to `head`, or None when intact:
    a break, else a head the records do not end at, else a rebuilt head.

    `links` are the kept records in seq order (read once).
    """
    walked = walk(links, anchor)
    if walked.problem is not None and not isinstance(walked.problem, HeadRecreated):
        return walked.problem
    if walked.last != head:
        return HeadMismatch(head, walked.last)
    return walked.problem
