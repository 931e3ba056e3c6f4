"""`firebell review [--week 2026-W48]`: the weekly failure review in the terminal.

The same digest the review channel gets, every item listed, with the week's measured
failure rates when `prometheus_url` is set. Without `--week`: the last complete week in
the review's time zone (UTC when the config has no `review`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.offline import configured, read
from bot.reviews.digest import Digest
from bot.reviews.gather import gather_digest
from bot.reviews.render import digest_text
from bot.reviews.week import WeekError, last_complete_week, parse_week
from bot.slo.weekly import read_week_rates
from bot.store.db import db_now


def review_command(args: argparse.Namespace) -> int:
    """Print the review of `args.week` (or the last complete week); an exit status."""
    try:
        week = None if args.week is None else parse_week(args.week)
    except WeekError as err:
        print(f"firebell review: --week: {err}", file=sys.stderr)
        return USAGE
    settings = settings_from_environment()
    config = configured("review", settings)
    if config is None:
        return REFUSED
    zone = ZoneInfo(config.review.timezone if config.review else "UTC")

    def digest_of(session: Session) -> Digest:
        now = db_now(session)
        return gather_digest(
            session,
            week=week or last_complete_week(now, zone),
            zone=zone,
            now=now,
            config=config,
        )

    digest = read(settings, digest_of)
    # After the database read: Prometheus is asked outside its transaction.
    rates = asyncio.run(read_week_rates(config, start=digest.start, end=digest.end))
    print(digest_text(digest, rates), end="")
    return 0
