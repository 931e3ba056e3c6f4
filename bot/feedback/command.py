"""`firebell feedback [--since 7d] [--service S]`: the failure cases products reported,
in the terminal: counts by service and kind, then the newest examples."""

from __future__ import annotations

import argparse
from datetime import timedelta

from sqlmodel import Session

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.feedback.cases import Summary, summarise
from bot.feedback.render import terminal_feedback
from bot.offline import configured, read, unknown_service

EXAMPLES = 10


def feedback_command(args: argparse.Namespace) -> int:
    """Print the cases of the last `args.since` (of `args.service`, or all); an exit status."""
    settings = settings_from_environment()
    config = configured("feedback", settings)
    if config is None:
        return REFUSED
    service: str | None = args.service
    if unknown_service("feedback --service", config, service):
        return USAGE
    since: timedelta = args.since

    def summary_of(session: Session) -> Summary:
        return summarise(session, over=since, service=service, examples=EXAMPLES)

    print(terminal_feedback(read(settings, summary_of)), end="")
    return 0
