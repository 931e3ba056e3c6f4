"""`firebell slo rules [-o FILE]`: the services' SLOs as a Prometheus rule file."""

from __future__ import annotations

import argparse
import sys

from bot.cli import REFUSED, USAGE, settings_from_environment
from bot.config.load import ConfigError, load_config
from bot.slo.rules import rules_yaml, slo_rules


def rules_command(args: argparse.Namespace) -> int:
    """Write the rules of the config's services to `args.output` or stdout; an exit status."""
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
    text = rules_yaml(rules)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as err:
        print(
            f"firebell slo rules: cannot write {args.output}: {err.strerror or err}",
            file=sys.stderr,
        )
        return USAGE
    return 0
