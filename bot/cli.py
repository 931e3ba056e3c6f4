"""The `firebell` command: serve, check, db, manifest."""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

if TYPE_CHECKING:
    from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `firebell` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
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
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firebell", description=__doc__)
    sub = parser.add_subparsers(metavar="command")

    serve = sub.add_parser("serve", help="run the HTTP server, Slack app and workers")
    serve.add_argument("--host", help="bind address (default FIREBELL_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default FIREBELL_PORT or 3000)")
    serve.add_argument("--socket-mode", action="store_true", help="talk to Slack over Socket Mode")
    serve.set_defaults(func=_serve)

    check = sub.add_parser("check", help="validate the config and runbooks, print the plan")
    check.add_argument("--config", type=Path, help="config file (default FIREBELL_CONFIG)")
    check.set_defaults(func=_check)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(metavar="action")
    db_sub.add_parser("upgrade", help="migrate to the newest revision").set_defaults(
        func=_db_upgrade
    )
    db_sub.add_parser("current", help="print the current revision").set_defaults(func=_db_current)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument(
        "--url", required=True, help="public base URL, e.g. https://bot.example.com"
    )
    manifest.set_defaults(func=_manifest)
    return parser


def _settings() -> Settings:
    from bot.settings import load_settings  # noqa: PLC0415 - keep `firebell --help` fast

    try:
        return load_settings()
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        print(f"firebell: bad environment setting - {problems}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from bot import logs  # noqa: PLC0415
    from bot.config.load import ConfigError, load_config  # noqa: PLC0415
    from bot.runbooks import RunbookError, load_runbooks  # noqa: PLC0415
    from bot.settings import MissingSettingError  # noqa: PLC0415
    from bot.store.db import make_engine  # noqa: PLC0415
    from bot.store.migrate import upgrade  # noqa: PLC0415
    from bot.web import Tuning, create_app  # noqa: PLC0415

    settings = _settings()
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
    try:
        settings.require_slack(socket_mode=args.socket_mode)
        runbooks = load_runbooks(settings.firebell_runbooks)
        config = load_config(settings.firebell_config, runbooks=runbooks.keys())
    except (MissingSettingError, ConfigError, RunbookError) as err:
        print(f"firebell: {err}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    app = create_app(settings, config=config, tuning=Tuning(socket_mode=args.socket_mode))
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to the handler
    # that was there before: this one makes a clean stop exit with status 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app,
        host=args.host or settings.firebell_host,
        port=args.port or settings.firebell_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    return 0


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _check(args: argparse.Namespace) -> int:
    from bot.core.plan import check  # noqa: PLC0415

    settings = _settings()
    code, text = check(
        args.config or settings.firebell_config, settings.firebell_runbooks, at=datetime.now(UTC)
    )
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
    from bot.manifest import manifest_yaml  # noqa: PLC0415

    print(manifest_yaml(args.url), end="")
    return 0
