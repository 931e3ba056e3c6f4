"""`firebell readiness [SERVICE] [--json]`: the launch-readiness checklist of every
service (or one) in the terminal, read from the config, the runbooks folder and the
database in one transaction."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.governance.gather import Checklist, readiness_of_all
from bot.governance.render import json_readiness, terminal_readiness
from bot.offline import configured, read, unknown_service
from bot.runbooks import load_runbooks
from bot.runbooks.problems import RunbookError


def readiness_command(args: argparse.Namespace) -> int:
    """Print the checklists; an exit status (0 whatever their items say)."""
    settings = settings_from_environment()
    config = configured("readiness", settings)
    if config is None:
        return REFUSED
    wanted: str | None = args.service
    if unknown_service("readiness", config, wanted):
        return USAGE
    try:
        runbooks = load_runbooks(settings.firebell_runbooks)
    except RunbookError as err:
        print(f"firebell readiness: the runbooks were refused:\n{err}", file=sys.stderr)
        return REFUSED
    services = [wanted] if wanted is not None else list(config.services)
    if not services:
        print("firebell readiness: the config has no services", file=sys.stderr)
        return 0

    def checklists(session: Session) -> list[Checklist]:
        return readiness_of_all(session, config, runbooks, services)

    found = read(settings, checklists)
    print(json_readiness(found) if args.json else terminal_readiness(found), end="\n")
    return 0
