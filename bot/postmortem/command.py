"""`firebell export INC-<n> [-o FILE]`: the Markdown postmortem, to stdout or a file.

The config is read for the names it gives (teams, areas, severities) and for the
team's templates; the incident's facts are read in one transaction of the database in
`DATABASE_URL`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.offline import configured, read
from bot.postmortem.facts import gather
from bot.postmortem.render import markdown

_REF = re.compile(r"^(?:INC-)?(\d{1,9})$", re.IGNORECASE)


def incident_number(text: str) -> int | None:
    """`INC-7` (or `7`) as 7; None if it is not an incident reference."""
    found = _REF.match(text.strip())
    return None if found is None else int(found.group(1))


def export_command(args: argparse.Namespace) -> int:
    """Write the postmortem of `args.incident` (`INC-<n>`) to `args.output` or stdout."""
    number = incident_number(args.incident)
    if number is None:
        print(
            f"firebell export: {args.incident!r} is not an incident: write it as INC-7",
            file=sys.stderr,
        )
        return USAGE
    settings = settings_from_environment()
    config = configured("export", settings)
    if config is None:
        return REFUSED
    facts = read(settings, lambda session: gather(session, config, number=number))
    if facts is None:
        print(
            f"firebell export: there is no incident INC-{number} in this database "
            "(check DATABASE_URL; `/incident list` shows open incidents)",
            file=sys.stderr,
        )
        return REFUSED
    document = markdown(facts, config)
    output: Path | None = args.output
    if output is None:
        sys.stdout.write(document)
        return 0
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as err:
        print(f"firebell export: cannot write {output}: {err.strerror or err}", file=sys.stderr)
        return USAGE
    print(f"wrote the postmortem of INC-{number} to {output}", file=sys.stderr)
    return 0
