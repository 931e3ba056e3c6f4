"""The `firebell` command: serve, check, db, manifest."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from bot.audit.arguments import add_audit_parser
from bot.settings import check_port

if TYPE_CHECKING:
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

    report = sub.add_parser(
        "report",
        help="print response metrics (MTTA, MTTR, deadlines met) of recent incidents",
        description="Print the time to acknowledge, mitigate and resolve (count, median, "
        "p90, mean), the share of response deadlines met and the escalation steps of the "
        "incidents declared in the period: over all of them, then per severity, area, "
        "service and ISO week (UTC).",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument(
        "--since",
        type=_since,
        metavar="DURATION",
        default="30d",
        help="how far back to look, a duration like 30d, 2w or 12h (default 30d)",
    )
    report.add_argument(
        "--json", action="store_true", help="print JSON (durations in seconds) instead"
    )
    report.set_defaults(func=_report)

    review = sub.add_parser(
        "review",
        help="print the weekly failure review of a week",
        description="Print the weekly failure review the review channel gets: the week's "
        "incidents by severity and area, deadlines missed, repeat services, rollbacks, open "
        "follow-ups and the trend against the four weeks before. A week runs Monday to "
        "Monday in the review's time zone (UTC without a review block in the config).",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument(
        "--week", help="the ISO week, e.g. 2026-W48 (default: the last complete week)"
    )
    review.set_defaults(func=_review)

    export = sub.add_parser(
        "export",
        help="write the Markdown postmortem of an incident",
        description="Write the postmortem of an incident as Markdown: what firebell "
        "recorded (times, response metrics, paging, rollbacks, runbooks, status updates, "
        "pins, follow-ups, the timeline) and the sections left for the team to write. "
        "Rendered from the config's `templates` folder if it overrides postmortem.md.j2.",
        epilog=EXIT_STATUSES + "\nexport also exits with 1 when the database has no such incident",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("incident", metavar="INC-<n>", help="the incident, e.g. INC-7")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE, not stdout"
    )
    export.set_defaults(func=_export)

    alerts = sub.add_parser(
        "alerts",
        help="print the alert notifications Alertmanager and Grafana sent",
        description="Print the notifications received on /hooks/alertmanager and "
        "/hooks/grafana in the period, newest first: when, from which source, firing or "
        "resolved, the alert group, its alerts, and what each did (the incident INC-<n> it "
        "opened or joined, or why it went to none).",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    alerts.add_argument(
        "--since",
        type=_since,
        metavar="DURATION",
        default="1h",
        help="how far back to look, a duration like 1h, 30m or 2d (default 1h)",
    )
    alerts.set_defaults(func=_alerts)

    for add_parser in (_feedback_parser, _readiness_parser, _audit_parser):
        add_parser(sub)

    slo = sub.add_parser("slo", help="service level objectives as Prometheus rules")
    slo_sub = slo.add_subparsers(metavar="action")
    slo_rules = slo_sub.add_parser(
        "rules",
        help="write Prometheus recording and alerting rules from the services' slo blocks",
        description="Write a Prometheus rule file from each service's agreed targets (its "
        "`slo` block) and the `slo_metrics` PromQL templates: recording rules for each SLI "
        "over 5m, 30m, 1h, 6h and 3d, and alerts labelled service, firebell_severity and "
        "slo that open firebell incidents through Alertmanager (docs/slo.md). With --self: "
        "alerts on firebell's own health from its /metrics, labelled firebell_self, for "
        "whoever runs firebell (docs/metrics.md).",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    slo_rules.add_argument("--config", type=Path, help="config file (default FIREBELL_CONFIG)")
    _self_arguments(slo_rules)
    slo_rules.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE, not stdout"
    )
    slo_rules.add_argument(
        "--window-scale",
        type=_window_scale,
        default=1.0,
        metavar="N",
        help="for tests: divide every window and `for` by N (60: an hour lasts a minute)",
    )
    slo_rules.set_defaults(func=_slo_rules)
    slo.set_defaults(func=lambda _: _usage(slo))

    sub.add_parser(
        "secret",
        help="print a fresh whsec_ signing secret",
        description=(
            "Print a fresh Standard Webhooks signing secret (whsec_...). Put it in the "
            "environment variable that a service's rollback.secret_env (or deploys.secret_env) "
            "names, on firebell's side and on the receiver's or the pipeline's."
        ),
    ).set_defaults(func=_secret)
    return parser


def _self_arguments(slo_rules: argparse.ArgumentParser) -> None:
    """`firebell slo rules --self [--job NAME]`."""
    slo_rules.add_argument(
        "--self",
        action="store_true",
        dest="self_rules",
        help="alert on firebell itself instead of the services (reads no config)",
    )
    slo_rules.add_argument(
        "--job",
        metavar="NAME",
        help="with --self: the Prometheus scrape job of firebell's /metrics (default firebell)",
    )


def _audit_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_audit_parser(sub, epilog=EXIT_STATUSES)  # bot/audit/arguments.py


def _readiness_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`firebell readiness [SERVICE] [--json]`."""
    readiness = sub.add_parser(
        "readiness",
        help="print the launch-readiness checklist of each service",
        description="Print each service's launch-readiness checklist (the seed's eleven "
        "items: sign-offs, failure rate, RACI, owner, classification, PII policy, SLOs, "
        "dashboard, rollback drills, runbook, feedback), each done, missing or stale, with "
        "what to do, and the service's rollout stage (docs/governance.md).",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    readiness.add_argument("service", nargs="?", metavar="SERVICE", help="only this service")
    readiness.add_argument("--json", action="store_true", help="print JSON instead")
    readiness.set_defaults(func=_readiness)


def _feedback_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`firebell feedback [--since 7d] [--service S]`."""
    feedback = sub.add_parser(
        "feedback",
        help="print the failure cases products reported on /hooks/feedback",
        description="Print the failure cases (wrong answers, low confidence, thumbs down, "
        "hand-overs to a person) that happened in the period: counts by service and kind, then "
        "the newest examples.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    feedback.add_argument(
        "--since",
        type=_since,
        metavar="DURATION",
        default="7d",
        help="how far back to look, a duration like 7d, 24h or 2w (default 7d)",
    )
    feedback.add_argument("--service", metavar="S", help="only this service's cases")
    feedback.set_defaults(func=_feedback)


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


def settings_from_environment() -> Settings:
    """The settings, or exit 2 with every bad one named in one line."""
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
    from bot.serve_command import serve_command  # noqa: PLC0415 - keep `firebell --help` fast

    return serve_command(args)


def _since(text: str) -> timedelta:
    """`--since`: a duration as the config writes them (`30d`, `2w`, `12h`)."""
    from bot.config.duration import parse_duration  # noqa: PLC0415

    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _speed(text: str) -> float:
    """`--speed`: how many times faster than real time a drill runs."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _check(args: argparse.Namespace) -> int:
    from bot.core.plan import check  # noqa: PLC0415

    settings = settings_from_environment()
    from bot.serve_command import missing_runbooks  # noqa: PLC0415

    missing = missing_runbooks(settings.firebell_runbooks)
    from bot.incidents.drills import checked_drills  # noqa: PLC0415

    config_path = args.config or settings.firebell_config
    drills = checked_drills(config_path, settings.database_url)
    code, text = check(config_path, settings.firebell_runbooks, at=datetime.now(UTC), drills=drills)
    if missing:
        code, text = REFUSED, "\n".join([missing, text] if code else [missing])
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _db_upgrade(_: argparse.Namespace) -> int:
    from bot.store.db import make_engine  # noqa: PLC0415
    from bot.store.migrate import current_revision, upgrade  # noqa: PLC0415

    engine = make_engine(settings_from_environment().database_url)
    try:
        upgrade(engine)
        print(f"database at revision {current_revision(engine)} (head)")
    finally:
        engine.dispose()
    return 0


def _db_current(_: argparse.Namespace) -> int:
    from bot.store.db import make_engine  # noqa: PLC0415
    from bot.store.migrate import current_revision, head_revision  # noqa: PLC0415

    engine = make_engine(settings_from_environment().database_url)
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


def _secret(_: argparse.Namespace) -> int:
    from bot.webhooks.standard import new_secret  # noqa: PLC0415

    print(new_secret())
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.postmortem.command import export_command  # noqa: PLC0415 - keep `--help` fast

    return export_command(args)


def _alerts(args: argparse.Namespace) -> int:
    from bot.integrations.command import alerts_command  # noqa: PLC0415 - keep `--help` fast

    return alerts_command(args)


def _readiness(args: argparse.Namespace) -> int:
    from bot.governance.command import readiness_command  # noqa: PLC0415 - keep `--help` fast

    return readiness_command(args)


def _feedback(args: argparse.Namespace) -> int:
    from bot.feedback.command import feedback_command  # noqa: PLC0415 - keep `--help` fast

    return feedback_command(args)


def _window_scale(text: str) -> float:
    """`--window-scale`: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _slo_rules(args: argparse.Namespace) -> int:
    from bot.slo.command import rules_command  # noqa: PLC0415 - keep `firebell --help` fast

    return rules_command(args)


def _review(args: argparse.Namespace) -> int:
    from bot.reviews.command import review_command  # noqa: PLC0415 - keep `firebell --help` fast

    return review_command(args)


def _report(args: argparse.Namespace) -> int:
    from bot.reports.report import as_json, as_table, report_rows  # noqa: PLC0415
    from bot.store.db import Store, db_now, make_engine  # noqa: PLC0415
    from bot.store.reports import incidents_since  # noqa: PLC0415

    store = Store(make_engine(settings_from_environment().database_url), workers=1)
    try:
        with store.transaction() as session:
            now = db_now(session)
            since = now - args.since
            rows = report_rows(incidents_since(session=session, since=since), since=since, now=now)
    finally:
        store.dispose()
    if args.json:
        print(json.dumps(as_json(rows, since=since, now=now), indent=2))
    else:
        print(as_table(rows))
    return 0
