"""The `firebell` command: serve, check, db, manifest."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from bot.settings import check_port

if TYPE_CHECKING:
    from bot.config.model import Config
    from bot.serving import SandboxPlan
    from bot.settings import Settings

# Exit statuses, the same in every command: 1 means the files you wrote (config,
# runbooks) were refused, 2 that the command cannot run as it was invoked or in this
# environment. `check` and `serve` refuse a bad config with 1 alike.
REFUSED = 1
USAGE = 2
EXIT_STATUSES = """\
exit status:
  0  done (for serve: stopped by SIGTERM or SIGINT)
  1  the config file or the runbooks folder was refused: every problem is printed
  2  usage: a bad command line, a missing or bad environment setting, the database
     unreachable, or the port in use"""
SERVE_ENVIRONMENT = """\
environment (also read from ./.env):
  SLACK_BOT_TOKEN         bot token, xoxb-... (without it and the secret: the sandbox)
  SLACK_SIGNING_SECRET    verifies every request from Slack
  SLACK_APP_TOKEN         app-level token, xapp-... (required with --socket-mode)
  SLACK_API_URL           Web API base URL (default https://slack.com/api/)
  DATABASE_URL            SQLite or PostgreSQL URL (default sqlite:///./firebell.db)
  FIREBELL_CONFIG         the YAML config, unless --config (default ./firebell.yaml)
  FIREBELL_RUNBOOKS       folder of Markdown runbooks (default ./runbooks)
  FIREBELL_HOST           bind address, unless --host (default 127.0.0.1)
  FIREBELL_PORT           port, unless --port (default 3000)
  FIREBELL_WEBHOOK_TOKEN  bearer token required on /hooks/* (default: hooks refused)
  LOG_LEVEL               DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)
  LOG_FORMAT              console or json (default console)"""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `firebell` console script (exit statuses: see `EXIT_STATUSES`)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except OperationalError as err:
        reason = str(err.orig or err).strip().splitlines()[0]
        print(
            f"firebell: cannot use the database ({reason}). Check DATABASE_URL and that the "
            "database server is running.",
            file=sys.stderr,
        )
        return USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firebell",
        description=__doc__,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"firebell {_version()}")
    sub = parser.add_subparsers(metavar="command")

    serve = sub.add_parser(
        "serve",
        help="run the HTTP server, Slack app and workers",
        description="Run the HTTP server, the Slack app, the deadline clock and delivery. "
        "Binds the port first, then migrates the database, then starts the workers; "
        "SIGTERM or SIGINT stops it cleanly (status 0).",
        epilog=SERVE_ENVIRONMENT + "\n" + EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="bind address (default FIREBELL_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port, 1-65535 (default FIREBELL_PORT or 3000)")
    serve.add_argument("--config", type=Path, help="config file (default FIREBELL_CONFIG)")
    serve.add_argument("--socket-mode", action="store_true", help="talk to Slack over Socket Mode")
    serve.add_argument(
        "--sandbox",
        action="store_true",
        help="serve the sandbox (a Slack workspace in the browser at /sandbox) even when "
        "Slack settings are present; the default when none are",
    )
    serve.add_argument(
        "--drill",
        metavar="SEVERITY",
        help="rehearse: start the sandbox with an incident of SEVERITY (P0-P3) declared",
    )
    serve.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="with --drill: divide every duration of the config by this (60: an hour "
        "takes a minute; default 1)",
    )
    serve.set_defaults(func=_serve)

    check = sub.add_parser(
        "check",
        help="validate the config and runbooks, print the plan",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--config", type=Path, help="config file (default FIREBELL_CONFIG)")
    check.set_defaults(func=_check)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(metavar="action")
    db_sub.add_parser("upgrade", help="migrate to the newest revision").set_defaults(
        func=_db_upgrade
    )
    db_sub.add_parser("current", help="print the current revision").set_defaults(func=_db_current)
    db.set_defaults(func=lambda _: _usage(db))

    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    where = manifest.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="public https:// base URL, e.g. https://bot.example.com")
    where.add_argument(
        "--socket-mode", action="store_true", help="for `firebell serve --socket-mode`: no URLs"
    )
    manifest.set_defaults(func=_manifest)
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    """A command given without its action: its own help, on stderr, as a usage error."""
    parser.print_help(sys.stderr)
    return USAGE


def _port(text: str) -> int:
    """`--port`: a TCP port, 1-65535 (the same rule as FIREBELL_PORT)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    try:
        return check_port(number)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _version() -> str:
    try:
        return metadata.version("firebell")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def _settings() -> Settings:
    from bot.settings import load_settings  # noqa: PLC0415 - keep `firebell --help` fast

    try:
        return load_settings()
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in err.errors()
        )
        print(f"firebell: bad environment setting - {problems}", file=sys.stderr)
        raise SystemExit(USAGE) from None


def _serve(args: argparse.Namespace) -> int:
    from bot import logs  # noqa: PLC0415
    from bot.sandbox.mode import wants_sandbox  # noqa: PLC0415 - keep `firebell --help` fast

    settings = _settings()
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
    config = _load(sources.config, sources.runbooks)
    if config is None:
        return REFUSED
    if drill is not None:
        config = sped_up(config, drill.speed)
        sources.notes.append(
            f"drill: a {drill.severity} is declared once firebell is up; every duration of "
            f"the config is divided by {drill.speed:g}"
        )
    return _start(args, settings, config, notes=sources.notes, sandbox=SandboxPlan(drill))


def _serve_slack(args: argparse.Namespace, settings: Settings) -> int:
    from bot.settings import MissingSettingError  # noqa: PLC0415

    try:
        settings.require_slack(socket_mode=args.socket_mode)
    except MissingSettingError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE
    config = _load(args.config or settings.firebell_config, settings.firebell_runbooks)
    if config is None:
        return REFUSED
    return _start(args, settings, config, notes=[], sandbox=None)


def _start(
    args: argparse.Namespace,
    settings: Settings,
    config: Config,
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
    logs.configure(settings.log_level, settings.log_format, secrets=secrets)
    log = logging.getLogger("bot.cli")
    for note in notes:
        log.info("%s", note)
    from bot.serving import PortUnavailableError, serve  # noqa: PLC0415 - the whole app

    try:
        return serve(
            settings,
            config,
            host=args.host or settings.firebell_host,
            port=args.port or settings.firebell_port,
            socket_mode=args.socket_mode,
            sandbox=sandbox,
        )
    except PortUnavailableError as err:
        print(f"firebell: {err}", file=sys.stderr)
        return USAGE


def _speed(text: str) -> float:
    """`--speed`: how many times faster than real time a drill runs."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _load(config_path: Path, runbooks: Path) -> Config | None:
    """The config, with its runbooks checked; None once the problems are printed."""
    from bot.config.load import ConfigError, load_config  # noqa: PLC0415
    from bot.runbooks import check_runbooks, read_runbooks  # noqa: PLC0415

    missing = _missing_runbooks(runbooks)
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
    return config


def _missing_runbooks(folder: Path) -> str | None:
    """What to say when the runbooks folder does not exist (a typo in FIREBELL_RUNBOOKS
    would otherwise show only as unknown runbooks, or as none at all)."""
    if folder.is_dir():
        return None
    return (
        f"{folder}: no runbooks folder here: create it (it may be empty) or set "
        "FIREBELL_RUNBOOKS to the folder of your runbooks"
    )


def _check(args: argparse.Namespace) -> int:
    from bot.core.plan import check  # noqa: PLC0415

    settings = _settings()
    missing = _missing_runbooks(settings.firebell_runbooks)
    code, text = check(
        args.config or settings.firebell_config, settings.firebell_runbooks, at=datetime.now(UTC)
    )
    if missing:
        code, text = REFUSED, "\n".join([missing, text] if code else [missing])
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _db_upgrade(_: argparse.Namespace) -> int:
    from bot.store.db import make_engine  # noqa: PLC0415
    from bot.store.migrate import current_revision, upgrade  # noqa: PLC0415

    engine = make_engine(_settings().database_url)
    try:
        upgrade(engine)
        print(f"database at revision {current_revision(engine)} (head)")
    finally:
        engine.dispose()
    return 0


def _db_current(_: argparse.Namespace) -> int:
    from bot.store.db import make_engine  # noqa: PLC0415
    from bot.store.migrate import current_revision, head_revision  # noqa: PLC0415

    engine = make_engine(_settings().database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "head" if current == head else f"behind head {head}: run `firebell db upgrade`"
    print(f"{current or 'none (empty database)'} ({state})")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from bot.manifest import ManifestUrlError, manifest_yaml  # noqa: PLC0415

    try:
        text = manifest_yaml(args.url, socket_mode=args.socket_mode)
    except ManifestUrlError as err:
        print(f"firebell manifest: {err}", file=sys.stderr)
        return 2
    print(text, end="")
    return 0
