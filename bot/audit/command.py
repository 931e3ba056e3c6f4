"""`firebell audit [--since 7d] [--actor U..] [--json|--csv]`, `firebell audit verify` and
`firebell audit prune`: the audit trail in the terminal."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlmodel import Session

from bot.audit.chain import Link, Point, Problem, verify
from bot.audit.prune import BATCH, Pruned, prune
from bot.audit.records import chain_ends, links, read_consistently, records_since, unchained
from bot.audit.render import as_csv, as_json_lines, as_table, problem_text, verdict
from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.config.duration import format_duration
from bot.offline import configured, read
from bot.settings import Settings
from bot.store.db import Store, db_now, make_engine


def export_command(args: argparse.Namespace) -> int:
    """Print the records of the last `args.since` (by `args.actor`); an exit status."""
    since: timedelta = args.since
    actor: str | None = args.actor

    def records_of(session: Session) -> list[Link]:
        return records_since(session, since=db_now(session) - since, actor=actor)

    found = read(settings_from_environment(), records_of)
    if args.json:
        print(as_json_lines(found), end="")
    elif args.csv:
        print(as_csv(found), end="")
    else:
        print(as_table(found), end="")
    return 0


@dataclass(frozen=True)
class Checked:
    """What `verify_command` found."""

    anchor: Point
    head: Point
    problem: Problem | None
    loose: int  # records with no place in the chain


def check_trail(session: Session) -> Checked:
    """Verify the whole kept chain, from one snapshot."""
    read_consistently(session)
    ends = chain_ends(session)
    problem = verify(links(session, after=0), ends.anchor, ends.head)
    return Checked(ends.anchor, ends.head, problem, unchained(session))


def verify_command(_args: argparse.Namespace) -> int:
    """Verify the chain: 0 when intact, 1 (saying what is wrong) when not."""
    checked = read(settings_from_environment(), check_trail)
    count = checked.head.seq - checked.anchor.seq
    text = verdict(count, checked.anchor, checked.head, checked.problem, checked.loose)
    broken = checked.problem is not None or checked.loose
    print(text, file=sys.stderr if broken else sys.stdout)
    return REFUSED if broken else 0


def prune_all(settings: Settings, retention: timedelta, *, batch: int = BATCH) -> Pruned:
    """Prune batch after batch, a transaction each, until none is old enough (or a
    broken part stops it); what was done in all."""
    store = Store(make_engine(settings.database_url), workers=1)
    deleted = 0
    try:
        while True:  # ends: a batch that leaves `more` deleted `batch` records
            with store.transaction() as session:
                done = prune(
                    session, retention=retention, actor="firebell", source="terminal", batch=batch
                )
            deleted += done.deleted
            if done.problem is not None or not done.more:
                return replace(done, deleted=deleted)
    finally:
        store.dispose()


def prune_command(_args: argparse.Namespace) -> int:
    """Delete the records older than `audit.retention` now; an exit status."""
    settings = settings_from_environment()
    config = configured("audit prune", settings)
    if config is None:
        return REFUSED
    retention = config.audit.retention
    if retention is None:
        print(
            "firebell audit prune: the config keeps audit records for ever; set "
            "`audit: {retention: 400d}` (any duration) to prune older ones.",
            file=sys.stderr,
        )
        return USAGE

    done = prune_all(settings, retention, batch=BATCH)
    kept = f"older than {format_duration(retention)}"
    if done.problem is not None:
        so_far = (
            f"pruned {done.deleted} records up to seq {done.anchor.seq}, then stopped"
            if done.deleted
            else "not pruned"
        )
        print(
            f"firebell audit prune: {so_far}, the records to prune are broken: "
            f"{problem_text(done.problem)}.",
            file=sys.stderr,
        )
        return REFUSED
    if not done.deleted:
        print(f"No audit records {kept} to prune.")
    else:
        print(f"Pruned {done.deleted} audit records {kept} (up to seq {done.anchor.seq}).")
    return 0
