"""`firebell serve`: choose Slack or the sandbox, load the files, then run.

Split from `bot.cli`, which imports it only when `serve` is the command.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.config.model import Config
from bot.runbooks import Runbook
from bot.sandbox.mode import wants_sandbox
from bot.serving import SandboxPlan
from bot.settings import Settings


def serve_command(args: argparse.Namespace) -> int:
    """`firebell serve`: the sandbox or Slack, as the settings say; the exit status."""
    from bot import logs  # noqa: PLC0415

    settings = settings_from_environment()
    try:
        logs.parse_level(settings.log_level)
    except logs.LogLevelError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE
    if args.speed != 1.0 and not args.drill:
        print("firebell: --speed goes with --drill, e.g. --drill P1 --speed 60", file=sys.stderr)
        return USAGE
    if not wants_sandbox(settings, forced=args.sandbox or bool(args.drill)):
        return _serve_slack(args, settings)
    if args.socket_mode:
        print(
            "firebell: the sandbox sends its requests over HTTP: drop --socket-mode (or set "
            "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to talk to Slack)",
            file=sys.stderr,
        )
        return USAGE
    with tempfile.TemporaryDirectory(prefix="firebell-sandbox-") as scratch:
        return _serve_sandbox(args, settings, Path(scratch))


def _serve_sandbox(args: argparse.Namespace, settings: Settings, scratch: Path) -> int:
    from bot.sandbox.drill import Drill, DrillError, sped_up  # noqa: PLC0415
    from bot.sandbox.mode import sandbox_sources  # noqa: PLC0415
    from bot.serving import SandboxPlan  # noqa: PLC0415

    try:
        drill = Drill(args.drill.upper(), args.speed) if args.drill else None
    except DrillError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE
    sources = sandbox_sources(settings, config=args.config, scratch=scratch)
    settings = settings.model_copy(
        update={"database_url": sources.database_url, "firebell_runbooks": sources.runbooks}
    )
    loaded = _load(sources.config, sources.runbooks)
    if loaded is None:
        return REFUSED
    config, runbooks = loaded
    if drill is not None:
        config = sped_up(config, drill.speed)
        sources.notes.append(
            f"drill: a {drill.severity} is declared once firebell is up; every duration of "
            f"the config is divided by {drill.speed:g}"
        )
    plan = SandboxPlan(drill)
    return _start(args, settings, config, runbooks, notes=sources.notes, sandbox=plan)


def _serve_slack(args: argparse.Namespace, settings: Settings) -> int:
    from bot.settings import MissingSettingError  # noqa: PLC0415

    try:
        settings.require_slack(socket_mode=args.socket_mode)
    except MissingSettingError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE
    loaded = _load(args.config or settings.firebell_config, settings.firebell_runbooks)
    if loaded is None:
        return REFUSED
    return _start(args, settings, *loaded, notes=[], sandbox=None)


def _start(
    args: argparse.Namespace,
    settings: Settings,
    config: Config,
    runbooks: Mapping[str, Runbook],
    *,
    notes: list[str],
    sandbox: SandboxPlan | None,
) -> int:
    from bot import logs  # noqa: PLC0415

    # Until the event loop takes them over (`bot.serving`), a stop signal ends start-up
    # at once; before this point nothing has been started, and the default action does.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    secrets = [
        s.get_secret_value()
        for s in (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
            settings.firebell_webhook_token,
        )
        if s is not None
    ]
    from bot.core.pii import PiiKeyError, keyed, policy  # noqa: PLC0415
    from bot.settings import environment  # noqa: PLC0415

    try:
        config = keyed(config, environment())
    except PiiKeyError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE
    secrets += [config.pii.key.decode()] if config.pii.key else []
    logs.configure(settings.log_level, settings.log_format, secrets=secrets, pii=policy(config.pii))
    log = logging.getLogger("bot.cli")
    for note in notes:
        log.info("%s", note)
    from bot.serving import PortUnavailableError, serve  # noqa: PLC0415 - the whole app

    try:
        return serve(
            settings,
            config,
            runbooks=runbooks,
            host=args.host or settings.firebell_host,
            port=args.port or settings.firebell_port,
            socket_mode=args.socket_mode,
            sandbox=sandbox,
        )
    except PortUnavailableError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _load(config_path: Path, runbooks: Path) -> tuple[Config, dict[str, Runbook]] | None:
    """The config and the runbooks, checked; None once the problems are printed."""
    from bot.config.load import ConfigError, load_config  # noqa: PLC0415
    from bot.runbooks import check_runbooks, read_runbooks  # noqa: PLC0415

    missing = missing_runbooks(runbooks)
    found, problems = read_runbooks(runbooks)
    config: Config | None = None
    refused: str | None = None
    try:
        config = load_config(config_path, runbooks=found.keys())
    except ConfigError as err:
        refused = str(err)
    problems = sorted(
        [*problems, *check_runbooks(found, config, at=datetime.now(UTC))],
        key=lambda problem: (str(problem.path), problem.line or 0),
    )
    lines = [missing, refused, *(str(problem) for problem in problems)]
    if config is None or missing or problems:
        print("\n".join(filter(None, lines)), file=sys.stderr)
        return None
    return config, found


def missing_runbooks(folder: Path) -> str | None:
    """What to say when the runbooks folder does not exist (a typo in FIREBELL_RUNBOOKS
    would otherwise show only as unknown runbooks, or as none at all)."""
    if folder.is_dir():
        return None
    return (
        f"{folder}: no runbooks folder here: create it (it may be empty) or set "
        "FIREBELL_RUNBOOKS to the folder of your runbooks"
    )
