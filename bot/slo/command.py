"""`firebell slo rules [--self] [-o FILE]`: the services' SLOs (or firebell's own
health) as a Prometheus rule file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.config.load import ConfigError, load_config
from bot.slo.rules import rules_yaml, slo_rules
from bot.slo.self_rules import DEFAULT_JOB, self_rules


def rules_command(args: argparse.Namespace) -> int:
    """Write the rules of the config's services (or with `--self`, of firebell's own
    health) to `args.output` or stdout; an exit status."""
    if args.self_rules:
        return _self_command(args)
    if args.job is not None:
        print(
            "firebell slo rules: --job names firebell's own scrape job, so it goes with "
            "--self: firebell slo rules --self --job NAME",
            file=sys.stderr,
        )
        return USAGE
    path = args.config or settings_from_environment().firebell_config
    try:
        config = load_config(path)
    except ConfigError as err:
        print(f"firebell slo rules: the config was refused:\n{err}", file=sys.stderr)
        return REFUSED
    rules = slo_rules(config, window_scale=args.window_scale)
    if not rules["groups"]:
        print(
            f"firebell slo rules: no service in {path} has an slo block, so the file has no "
            "rules: add e.g. slo: {success_rate: 99.5%, latency_p95: 3s} to a service",
            file=sys.stderr,
        )
    return _write(rules_yaml(rules), args.output)


def _self_command(args: argparse.Namespace) -> int:
    """`--self`: firebell's own alerts over the scrape job `--job`; no config is read."""
    job = DEFAULT_JOB if args.job is None else args.job.strip()
    if not job:
        print(
            "firebell slo rules: --job must name the scrape job of firebell's /metrics "
            "(its job_name in Prometheus' scrape_configs), e.g. --job firebell",
            file=sys.stderr,
        )
        return USAGE
    return _write(rules_yaml(self_rules(job=job, window_scale=args.window_scale)), args.output)


def _write(text: str, output: Path | None) -> int:
    """`text` to `output` (stdout when None); an exit status."""
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as err:
        print(
            f"firebell slo rules: cannot write {output}: {err.strerror or err}",
            file=sys.stderr,
        )
        return USAGE
    return 0
