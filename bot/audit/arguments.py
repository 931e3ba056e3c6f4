"""The `firebell audit` command line (kept apart from `command`, which imports the
database layer, so `firebell --help` stays fast)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from bot.config.duration import parse_duration


def _since(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_audit_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], *, epilog: str
) -> None:
    """`firebell audit [--since 7d] [--actor U..] [--json|--csv]`, `audit verify`, `audit
    prune`."""
    audit = sub.add_parser(
        "audit",
        help="print the audit trail, verify it, or prune it",
        description="Print the audit records of the period (who did what, to which object, "
        "from where and how it ended), oldest first. `audit verify` checks the hash chain "
        "and exits 1 saying which record was changed or deleted; `audit prune` deletes "
        "the records older than the config's audit.retention.",
        epilog=epilog + "\naudit verify also exits with 1 when the trail is broken",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument(
        "--since",
        type=_since,
        metavar="DURATION",
        default="7d",
        help="how far back to look, a duration like 7d, 24h or 2w (default 7d)",
    )
    audit.add_argument("--actor", metavar="U..", help="only this actor's records (a user id)")
    shape = audit.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON, one record a line")
    shape.add_argument("--csv", action="store_true", help="print CSV with a header row")
    audit.set_defaults(func=_export)
    actions = audit.add_subparsers(metavar="action")
    actions.add_parser(
        "verify", help="check that no record was changed or deleted (exit 1 if one was)"
    ).set_defaults(func=_verify)
    actions.add_parser(
        "prune", help="delete the records older than audit.retention now"
    ).set_defaults(func=_prune)


def _export(args: argparse.Namespace) -> int:
    from bot.audit.command import export_command  # noqa: PLC0415 - keep `--help` fast

    return export_command(args)


def _verify(args: argparse.Namespace) -> int:
    from bot.audit.command import verify_command  # noqa: PLC0415 - keep `--help` fast

    return verify_command(args)


def _prune(args: argparse.Namespace) -> int:
    from bot.audit.command import prune_command  # noqa: PLC0415 - keep `--help` fast

    return prune_command(args)
